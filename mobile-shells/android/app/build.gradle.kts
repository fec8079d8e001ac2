// The Android app: Compose views over :presentation, the cross-compiled core (jniLibs) and
// the platform's parts (Keystore token storage, connectivity, FCM, camera and gallery).
// `./gradlew :app:motcuaCore` (run before every build) cross-compiles the core with
// cargo-ndk and generates the Kotlin bindings.
plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
    alias(libs.plugins.kotlin.compose)
    alias(libs.plugins.google.services)
}

android {
    namespace = "vn.motcua.app"
    compileSdk = 36
    defaultConfig {
        applicationId = "vn.motcua.app"
        minSdk = 26
        targetSdk = 36
        versionCode = 1
        versionName = "0.1.0"
        buildConfigField("String", "API_URL", "\"https://api.motcua.example.vn\"")
    }
    buildFeatures {
        compose = true
        buildConfig = true
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

kotlin { jvmToolchain(17) }

dependencies {
    implementation(project(":presentation"))
    implementation(libs.jna) { artifact { type = "aar" } }
    implementation(libs.kotlinx.coroutines.android)
    implementation(platform(libs.compose.bom))
    implementation(libs.compose.material3)
    implementation(libs.compose.ui)
    implementation(libs.compose.ui.tooling.preview)
    implementation(libs.activity.compose)
    implementation(libs.lifecycle.viewmodel.compose)
    implementation(libs.lifecycle.runtime.compose)
    implementation(libs.security.crypto)
    implementation(platform(libs.firebase.bom))
    implementation(libs.firebase.messaging)
}

/** The repository's root (the Cargo workspace), two folders up. */
val workspace = rootProject.layout.projectDirectory.dir("../..").asFile

/**
 * Cross-compiles motcua-ffi for the phone ABIs with the size-tuned `mobile` profile into
 * src/main/jniLibs (cargo-ndk; needs ANDROID_NDK_HOME and the rustup targets), then
 * generates the Kotlin bindings from the host library (`cargo xtask bindings`) and copies
 * them where :presentation compiles them.
 */
val motcuaCore by tasks.registering {
    group = "motcua"
    description = "Cross-compiles the Rust core (.so per ABI) and generates its Kotlin bindings"
    val jniLibs = layout.projectDirectory.dir("src/main/jniLibs").asFile
    val generated = rootProject.layout.projectDirectory.dir("bindings/generated").asFile
    outputs.dirs(jniLibs, generated)
    doLast {
        providers.exec {
            workingDir = workspace
            commandLine(
                "cargo", "ndk", "-t", "arm64-v8a", "-t", "armeabi-v7a", "-t", "x86_64",
                "-o", jniLibs.absolutePath, "build", "--profile", "mobile", "-p", "motcua-ffi",
            )
        }.result.get().assertNormalExitValue()
        providers.exec {
            workingDir = workspace
            commandLine("cargo", "xtask", "bindings")
        }.result.get().assertNormalExitValue()
        generated.deleteRecursively()
        File(workspace, "target/bindings/kotlin").copyRecursively(generated)
    }
}

tasks.named("preBuild") { dependsOn(motcuaCore) }
