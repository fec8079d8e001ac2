// Gradle settings of the Android shell (not built in this repository: see ../README.md).
pluginManagement {
    repositories { google(); mavenCentral(); gradlePluginPortal() }
}
dependencyResolutionManagement {
    repositories { google(); mavenCentral() }
}
rootProject.name = "motcua-android"
include(":app")
