// Gradle settings of the Android app: :presentation (plain Kotlin, also compiled and tested
// on the JVM by `cargo xtask test`) and :app (the Compose views, Android only).
pluginManagement {
    repositories { google(); mavenCentral(); gradlePluginPortal() }
}
dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories { google(); mavenCentral() }
}
rootProject.name = "motcua-android"
include(":app", ":presentation")
