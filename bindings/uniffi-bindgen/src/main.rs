//! The `uniffi-bindgen` binary, pinned to the workspace's uniffi version so the generated
//! bindings always match the scaffolding compiled into `motcua-ffi`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
