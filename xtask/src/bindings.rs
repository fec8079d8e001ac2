//! `cargo xtask bindings`: builds `motcua-ffi` unstripped, generates the Kotlin, Swift and
//! Python bindings into `target/bindings/{kotlin,swift,python}`, checks the committed FFI
//! surface snapshot (`bindings/ffi-surface.txt`), measures the shipped library size, and
//! runs the Kotlin (JVM) and Python tests of the generated bindings and the JVM tests of the
//! Android presentation layer (`mobile-shells/android/presentation`) against a live server,
//! installing the tools they need (npm `kotlin-compiler`, Debian `libjna-java`, pip
//! `pytest`) when they are missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};

use crate::util::{cargo, is_root, output, run};

/// The npm package providing kotlinc (a full JVM compiler with the stdlib, kotlin-test
/// and kotlinx-coroutines jars in its `lib/`).
const KOTLIN_COMPILER: &str = "kotlin-compiler@2.4.20";
/// Debian's JNA, used by the generated Kotlin code to load the library.
const JNA_JAR: &str = "/usr/share/java/jna.jar";
/// The committed snapshot of the FFI surface.
const SURFACE_SNAPSHOT: &str = "bindings/ffi-surface.txt";
/// The Python interpreter that runs pytest and the surface listing.
const PYTHON: &str = "python3";
/// The shipped (stripped, release, x86_64) library must stay under this size.
const SIZE_BUDGET: u64 = 8 * 1024 * 1024;

/// `cargo xtask bindings [--check | --bless | --size | --test]`.
/// Flags of `cargo xtask bindings`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Options {
    /// Compare the exported surface with the committed snapshot (and the tests' coverage).
    #[arg(long)]
    pub check: bool,
    /// Update the committed surface snapshot.
    #[arg(long)]
    pub bless: bool,
    /// Measure the shipped library against its size budget.
    #[arg(long)]
    pub size: bool,
    /// Run only the Kotlin and Python tests of the bindings (and of the Android presentation layer).
    #[arg(long)]
    pub test: bool,
    /// Run only the JVM tests of the Android presentation layer (no surface check).
    #[arg(long)]
    pub presentation: bool,
}

pub fn run_task(options: &Options) -> anyhow::Result<()> {
    if options.test {
        return test();
    }
    if options.presentation {
        let generated = generate()?;
        run(cargo().args(["build", "-p", "motcua-server"]))?;
        let server = target_dir()?.join("debug").join("motcua-server");
        return presentation_tests(&generated, &server);
    }
    let Options { check, bless, size, .. } = *options;
    if size {
        let bytes = release_size()?;
        println!("libmotcua_ffi.so, release, stripped, x86_64: {bytes} bytes ({:.2} MiB)", mib(bytes));
        if bytes > SIZE_BUDGET {
            bail!("the shipped library is over its budget of {:.0} MiB", mib(SIZE_BUDGET));
        }
    }
    if size && !check && !bless {
        return Ok(());
    }
    let generated = generate()?;
    if bless {
        std::fs::copy(&generated.surface, SURFACE_SNAPSHOT).context("writing the surface snapshot")?;
        println!("updated {SURFACE_SNAPSHOT}");
    } else if check {
        check_surface(&generated)?;
    }
    println!("bindings in {}", generated.dir.display());
    Ok(())
}

/// The Kotlin and Python tests of the generated bindings (called by `cargo xtask test`).
pub fn test() -> anyhow::Result<()> {
    let generated = generate()?;
    check_surface(&generated)?;
    run(cargo().args(["build", "-p", "motcua-server"]))?;
    let server = target_dir()?.join("debug").join("motcua-server");

    let started = Instant::now();
    let python = python_tests(&generated, &server);
    let python_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let kotlin = kotlin_tests(&generated, &server);
    let kotlin_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let presentation = presentation_tests(&generated, &server);
    let presentation_secs = started.elapsed().as_secs_f64();

    eprintln!(
        "bindings tests: Python {python_secs:.0} s, Kotlin {kotlin_secs:.0} s, Android presentation \
         {presentation_secs:.0} s (with any tool installs)"
    );
    python.context("Python binding tests")?;
    kotlin.context("Kotlin binding tests")?;
    presentation.context("JVM tests of the Android presentation layer")
}

/// Where the generated bindings and the library are.
struct Generated {
    /// `target/bindings`
    dir: PathBuf,
    /// The unstripped debug library the bindings were generated from.
    library: PathBuf,
    /// The surface extracted from this generation.
    surface: PathBuf,
}

/// The cargo target directory: `CARGO_TARGET_DIR` if set, else `<workspace>/target`
/// (xtask runs in the workspace root).
fn target_dir() -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir()?;
    Ok(match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => cwd.join(dir),
        _ => cwd.join("target"),
    })
}

/// Builds the debug library (unstripped: uniffi reads its metadata from the symbols) and
/// the bindgen, then writes the bindings of every language and the surface listing.
fn generate() -> anyhow::Result<Generated> {
    run(cargo().args(["build", "-p", "motcua-ffi", "-p", "uniffi-bindgen"]))?;
    let target = target_dir()?;
    let library = target.join("debug").join("libmotcua_ffi.so");
    let bindgen = target.join("debug").join("uniffi-bindgen");
    let dir = target.join("bindings");
    for language in ["kotlin", "swift", "python"] {
        let out = dir.join(language);
        if out.exists() {
            std::fs::remove_dir_all(&out).with_context(|| format!("clearing {}", out.display()))?;
        }
        run(Command::new(&bindgen)
            .arg("generate")
            .arg(&library)
            .args(["--language", language, "--no-format", "--out-dir"])
            .arg(&out))?;
    }
    let python = dir.join("python");
    std::fs::copy(&library, python.join("libmotcua_ffi.so"))
        .context("copying the library next to the Python module")?;

    let surface = dir.join("ffi-surface.txt");
    let listing = output(Command::new(PYTHON).arg("bindings/python/surface.py").arg(&python))?;
    std::fs::write(&surface, listing).context("writing the surface listing")?;
    Ok(Generated { dir, library, surface })
}

/// Fails when the generated surface differs from the committed snapshot.
fn check_surface(generated: &Generated) -> anyhow::Result<()> {
    let fresh = comparable(&std::fs::read_to_string(&generated.surface)?);
    let committed = comparable(&std::fs::read_to_string(SURFACE_SNAPSHOT).unwrap_or_default());
    if fresh == committed {
        eprintln!("FFI surface matches {SURFACE_SNAPSHOT}");
        return check_tests_cover(&fresh);
    }
    let fresh_lines: Vec<&str> = fresh.lines().collect();
    let committed_lines: Vec<&str> = committed.lines().collect();
    let mut diff = String::new();
    for line in &committed_lines {
        if !fresh_lines.contains(line) {
            diff.push_str(&format!("  - {line}\n"));
        }
    }
    for line in &fresh_lines {
        if !committed_lines.contains(line) {
            diff.push_str(&format!("  + {line}\n"));
        }
    }
    bail!(
        "the FFI surface of motcua-ffi changed:\n{diff}\n\
         Update the tests of the bindings (bindings/kotlin/, bindings/python/) to cover the change, \
         then update the snapshot with `cargo xtask bindings --bless` and commit {SURFACE_SNAPSHOT}."
    )
}

/// The surface listing without the quotes of Python's forward references: the generated
/// module declares its classes in an order that varies between generations, so the same
/// type reads `List['FormGroupItem']` once and `List[FormGroupItem]` the next time.
fn comparable(listing: &str) -> String {
    listing.replace('\'', "")
}

/// Whether `text` calls `name` exactly: `name(` not preceded by a letter, digit or `_`
/// (so `sync_outbox(` is no call of `outbox`).
fn calls(text: &str, name: &str) -> bool {
    let needle = format!("{name}(");
    text.match_indices(&needle)
        .any(|(at, _)| text[..at].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_')))
}

/// Fails when a function, method or foreign-trait method of the surface is named in neither
/// the Python nor the Kotlin tests (as `snake_case(` or `camelCase(`).
fn check_tests_cover(surface: &str) -> anyhow::Result<()> {
    let mut tests = String::new();
    for dir in ["bindings/python", "bindings/kotlin"] {
        for entry in std::fs::read_dir(dir).with_context(|| format!("reading {dir}"))? {
            let path = entry?.path();
            let is_test = path.extension().is_some_and(|e| e == "py" || e == "kt")
                && path.file_name().is_some_and(|n| n != "surface.py");
            if is_test {
                tests.push_str(&std::fs::read_to_string(&path)?);
            }
        }
    }
    let mut missing = Vec::new();
    for line in surface.lines() {
        let Some((kind, rest)) = line.split_once(' ') else { continue };
        if !["function", "constructor", "method", "trait"].contains(&kind) {
            continue;
        }
        let qualified = rest.split('(').next().unwrap_or(rest);
        let name = qualified.rsplit('.').next().unwrap_or(qualified);
        let camel = camel_case(name);
        if !calls(&tests, name) && !calls(&tests, &camel) {
            missing.push(qualified.to_owned());
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    bail!(
        "these parts of the FFI surface are not exercised by the binding tests \
         (bindings/python/*.py, bindings/kotlin/*.kt): {}",
        missing.join(", ")
    )
}

fn camel_case(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// How the phone library is built: the release profile tuned for size (the server keeps
/// the workspace's speed-tuned release profile). Stripped, this is about 6.2 MiB on x86_64;
/// with the plain release profile it is 8.2 MiB.
/// Builds the release library as shipped to phones, strips a copy of it and returns the
/// copy's size.
fn release_size() -> anyhow::Result<u64> {
    run(cargo().args(["build", "--profile", "mobile", "-p", "motcua-ffi"]))?;
    let library = target_dir()?.join("mobile").join("libmotcua_ffi.so");
    let stripped = target_dir()?.join("mobile").join("libmotcua_ffi.stripped.so");
    std::fs::copy(&library, &stripped)?;
    run(Command::new("strip").arg("--strip-all").arg(&stripped))?;
    Ok(std::fs::metadata(&stripped)?.len())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Runs `bindings/python` with pytest (installed with pip when missing).
fn python_tests(generated: &Generated, server: &Path) -> anyhow::Result<()> {
    if output(Command::new(PYTHON).args(["-c", "import pytest"])).is_err() {
        eprintln!("pytest is missing: installing it with pip");
        run(Command::new(PYTHON).args(["-m", "pip", "install", "--quiet", "pytest"]))?;
    }
    run(Command::new(PYTHON)
        .args(["-m", "pytest", "bindings/python", "-q", "-p", "no:cacheprovider"])
        .env("PYTHONPATH", generated.dir.join("python"))
        .env("MOTCUA_SERVER_BIN", server))
}

/// kotlinc, the jars the tests run with, and the generated bindings compiled into a jar
/// (once per change of the generated code, since kotlinc takes about 30 s for it).
struct Kotlin {
    kotlinc: PathBuf,
    stdlib: PathBuf,
    coroutines: PathBuf,
    bindings_jar: PathBuf,
    build: PathBuf,
}

fn kotlin_setup(generated: &Generated) -> anyhow::Result<Kotlin> {
    let kotlin_home = ensure_kotlinc()?;
    ensure_java()?;
    ensure_jna()?;
    let lib = kotlin_home.join("lib");
    let stdlib = lib.join("kotlin-stdlib.jar");
    let coroutines = lib.join("kotlinx-coroutines-core-jvm.jar");
    let kotlinc = kotlin_home.join("bin").join("kotlinc");
    let build = generated.dir.join("kotlin-build");
    std::fs::create_dir_all(&build)?;

    let bindings_sources = kotlin_sources(&generated.dir.join("kotlin"))?;
    let bindings_jar = build.join("motcua-bindings.jar");
    let compile_cp = join_paths(&[Path::new(JNA_JAR), &coroutines]);
    compile_if_changed(&kotlinc, &bindings_sources, &compile_cp, &bindings_jar, &[])?;
    Ok(Kotlin { kotlinc, stdlib, coroutines, bindings_jar, build })
}

/// Runs `main_class` of `jars` on the JVM with the library, the server binary and `envs`.
fn run_jvm(
    kotlin: &Kotlin,
    generated: &Generated,
    server: &Path,
    jars: &[&Path],
    main_class: &str,
    envs: &[(&str, String)],
) -> anyhow::Result<()> {
    let mut classpath: Vec<&Path> = jars.to_vec();
    classpath.extend([kotlin.bindings_jar.as_path(), &kotlin.stdlib, &kotlin.coroutines, Path::new(JNA_JAR)]);
    let library_dir = generated.library.parent().context("the library has a folder")?;
    let mut java = Command::new("java");
    java.arg(format!("-Djna.library.path={}", library_dir.display()))
        .arg("-cp")
        .arg(join_paths(&classpath))
        .arg(main_class)
        .env("MOTCUA_SERVER_BIN", server);
    for (name, value) in envs {
        java.env(name, value);
    }
    run(&mut java)
}

/// Compiles the tests of the bindings against the bindings jar, and runs them.
fn kotlin_tests(generated: &Generated, server: &Path) -> anyhow::Result<()> {
    let kotlin = kotlin_setup(generated)?;
    let test_sources = kotlin_sources(Path::new("bindings/kotlin"))?;
    let tests_jar = kotlin.build.join("motcua-binding-tests.jar");
    let test_cp = join_paths(&[&kotlin.bindings_jar, Path::new(JNA_JAR), &kotlin.coroutines]);
    compile_if_changed(&kotlin.kotlinc, &test_sources, &test_cp, &tests_jar, &[&kotlin.bindings_jar])?;
    run_jvm(&kotlin, generated, server, &[&tests_jar], "motcua.bindings.test.BindingTestsKt", &[])
}

/// The Android presentation layer (plain Kotlin, no Android import): its main sources, then
/// its tests, compiled against the bindings jar and run against a live server on SQLite and
/// on PostgreSQL (the cluster of `MOTCUA_TEST_DATABASE_URL`, else a throwaway one started here).
fn presentation_tests(generated: &Generated, server: &Path) -> anyhow::Result<()> {
    const MODULE: &str = "mobile-shells/android/presentation/src";
    let kotlin = kotlin_setup(generated)?;
    let main_sources = kotlin_sources(&Path::new(MODULE).join("main").join("kotlin"))?;
    let main_jar = kotlin.build.join("motcua-presentation.jar");
    let main_cp = join_paths(&[&kotlin.bindings_jar, Path::new(JNA_JAR), &kotlin.coroutines]);
    compile_if_changed(&kotlin.kotlinc, &main_sources, &main_cp, &main_jar, &[&kotlin.bindings_jar])?;

    let test_sources = kotlin_sources(&Path::new(MODULE).join("test").join("kotlin"))?;
    let tests_jar = kotlin.build.join("motcua-presentation-tests.jar");
    let test_cp = join_paths(&[&main_jar, &kotlin.bindings_jar, Path::new(JNA_JAR), &kotlin.coroutines]);
    compile_if_changed(&kotlin.kotlinc, &test_sources, &test_cp, &tests_jar, &[&main_jar, &kotlin.bindings_jar])?;
    let (cluster, admin_url) = match std::env::var("MOTCUA_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => (None, url),
        _ => {
            let cluster = crate::pg::Cluster::start()?;
            let url = cluster.url();
            (Some(cluster), url)
        }
    };
    let result = run_jvm(
        &kotlin,
        generated,
        server,
        &[&tests_jar, &main_jar],
        "vn.motcua.presentation.PresentationTestsKt",
        &[("MOTCUA_TEST_DATABASE_URL", admin_url)],
    );
    drop(cluster);
    result
}

/// Compiles `sources` into `jar` unless the sources and `inputs` are byte-for-byte what
/// the jar was last built from (a fingerprint file next to the jar records that).
fn compile_if_changed(
    kotlinc: &Path,
    sources: &[PathBuf],
    classpath: &str,
    jar: &Path,
    inputs: &[&Path],
) -> anyhow::Result<()> {
    let mut fingerprint = Vec::new();
    for path in sources.iter().map(PathBuf::as_path).chain(inputs.iter().copied()) {
        fingerprint.extend_from_slice(path.display().to_string().as_bytes());
        fingerprint.push(0);
        fingerprint.extend(std::fs::read(path).with_context(|| format!("reading {}", path.display()))?);
        fingerprint.push(0);
    }
    let stamp = jar.with_extension("jar.inputs");
    if jar.exists() && std::fs::read(&stamp).ok().as_deref() == Some(fingerprint.as_slice()) {
        eprintln!("{} is up to date", jar.display());
        return Ok(());
    }
    let _ = std::fs::remove_file(&stamp);
    let started = Instant::now();
    run(Command::new(kotlinc)
        .args(sources)
        .args(["-nowarn", "-jvm-target", "17", "-cp", classpath, "-d"])
        .arg(jar)
        .env("JAVA_OPTS", "-Xmx2g -Xss8m"))?;
    eprintln!("compiled {} in {:.0} s", jar.display(), started.elapsed().as_secs_f64());
    std::fs::write(&stamp, fingerprint)?;
    Ok(())
}

fn kotlin_sources(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "kt") {
                found.push(path);
            }
        }
    }
    found.sort();
    if found.is_empty() {
        bail!("no Kotlin sources in {}", dir.display());
    }
    Ok(found)
}

fn join_paths(paths: &[&Path]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":")
}

/// kotlinc from npm, installed under `target/tools` when missing; returns its home.
fn ensure_kotlinc() -> anyhow::Result<PathBuf> {
    let prefix = target_dir()?.join("tools");
    let home = prefix.join("node_modules").join("kotlin-compiler");
    if home.join("bin").join("kotlinc").exists() {
        return Ok(home);
    }
    if Command::new("npm").arg("--version").output().is_err() {
        apt_install(&["npm"])?;
    }
    eprintln!("kotlinc is missing: installing {KOTLIN_COMPILER} from npm into {}", prefix.display());
    std::fs::create_dir_all(&prefix)?;
    run(Command::new("npm").arg("install").arg("--prefix").arg(&prefix).args([
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        KOTLIN_COMPILER,
    ]))?;
    if !home.join("bin").join("kotlinc").exists() {
        bail!("npm installed {KOTLIN_COMPILER} but {} has no bin/kotlinc", home.display());
    }
    Ok(home)
}

fn ensure_java() -> anyhow::Result<()> {
    if Command::new("java").arg("-version").output().is_ok_and(|o| o.status.success()) {
        return Ok(());
    }
    apt_install(&["openjdk-17-jdk-headless"])
}

fn ensure_jna() -> anyhow::Result<()> {
    if Path::new(JNA_JAR).exists() {
        return Ok(());
    }
    apt_install(&["libjna-java"])?;
    if !Path::new(JNA_JAR).exists() {
        bail!("libjna-java is installed but {JNA_JAR} is missing");
    }
    Ok(())
}

fn apt_install(packages: &[&str]) -> anyhow::Result<()> {
    if !is_root() {
        bail!("missing Debian packages {packages:?} and this is not root: apt-get install {}", packages.join(" "));
    }
    eprintln!("installing {packages:?} from Debian");
    run(Command::new("apt-get").args(["update", "-q"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

#[cfg(test)]
mod tests {
    use super::{calls, comparable};

    #[test]
    fn a_forward_reference_reads_like_the_type() {
        let early = "enum K { GROUP(items: List['FormGroupItem']) }\n";
        let late = "enum K { GROUP(items: List[FormGroupItem]) }\n";
        assert_eq!(comparable(early), comparable(late));
        assert_ne!(comparable(early), comparable("enum K { GROUP(items: List[FormField]) }\n"));
    }

    #[test]
    fn a_call_is_matched_by_its_whole_name() {
        let tests = "client.sync_outbox()\nval x = refreshDossiers(a)\n";
        assert!(calls(tests, "sync_outbox"));
        assert!(calls(tests, "refreshDossiers"));
        assert!(!calls(tests, "outbox"), "part of a longer name is no call");
        assert!(!calls(tests, "Dossiers"));
        assert!(calls("outbox()", "outbox"));
    }
}
