// The presentation layer: each screen's state and actions, plain Kotlin over the generated
// bindings (no Android import). The bindings' source is what :app's `motcuaCore` task
// generates; `cargo xtask test` compiles and tests this module with kotlinc on the JVM.
plugins {
    alias(libs.plugins.kotlin.jvm)
}

kotlin { jvmToolchain(17) }

sourceSets {
    main { kotlin.srcDir(rootProject.layout.projectDirectory.dir("bindings/generated")) }
}

dependencies {
    // The app ships JNA's aar; the JVM build compiles against its jar.
    compileOnly(libs.jna)
    api(libs.kotlinx.coroutines.core)
}

// The tests in src/test/kotlin are a plain main() runner needing a live server and the host
// library: run them with `cargo xtask bindings --presentation` from the repository's root.

tasks.named("compileKotlin") { dependsOn(":app:motcuaCore") }
