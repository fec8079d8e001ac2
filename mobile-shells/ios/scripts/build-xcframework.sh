#!/usr/bin/env bash
# Builds the Rust core for iOS (device and simulator, the size-tuned `mobile` profile),
# wraps it in MotcuaCoreFFI.xcframework with the generated C header and module map, and
# copies the generated Swift bindings into Sources/MotcuaCore. Run on a Mac with Xcode and
# the rustup targets aarch64-apple-ios, aarch64-apple-ios-sim and x86_64-apple-ios.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

cargo xtask bindings   # target/bindings/swift: MotcuaCore.swift, MotcuaCoreFFI.h, MotcuaCoreFFI.modulemap
for target in aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios; do
    cargo build --profile mobile -p motcua-ffi --target "$target"
done

build="$here/build"
rm -rf "$build" "$here/MotcuaCoreFFI.xcframework"
mkdir -p "$build/headers" "$build/sim"
cp target/bindings/swift/MotcuaCoreFFI.h "$build/headers/"
cp target/bindings/swift/MotcuaCoreFFI.modulemap "$build/headers/module.modulemap"
lipo -create \
    target/aarch64-apple-ios-sim/mobile/libmotcua_ffi.a \
    target/x86_64-apple-ios/mobile/libmotcua_ffi.a \
    -output "$build/sim/libmotcua_ffi.a"
xcodebuild -create-xcframework \
    -library target/aarch64-apple-ios/mobile/libmotcua_ffi.a -headers "$build/headers" \
    -library "$build/sim/libmotcua_ffi.a" -headers "$build/headers" \
    -output "$here/MotcuaCoreFFI.xcframework"

mkdir -p "$here/Sources/MotcuaCore"
cp target/bindings/swift/MotcuaCore.swift "$here/Sources/MotcuaCore/"
echo "built $here/MotcuaCoreFFI.xcframework and Sources/MotcuaCore/MotcuaCore.swift"
