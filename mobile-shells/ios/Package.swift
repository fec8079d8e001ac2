// swift-tools-version:5.9
// The iOS app's Swift package: MotcuaCoreFFI (the Rust core as an XCFramework, built by
// scripts/build-xcframework.sh), MotcuaCore (the generated Swift bindings, copied by the
// same script) and MotcuaUI (the SwiftUI screens). An Xcode iOS App target adds MotcuaUI and
// App/MotcuaApp.swift. Not compiled in this repository: there is no Swift toolchain here.
import PackageDescription

let package = Package(
    name: "MotcuaApp",
    platforms: [.iOS(.v16)],
    products: [
        .library(name: "MotcuaUI", targets: ["MotcuaUI"]),
    ],
    targets: [
        .binaryTarget(name: "MotcuaCoreFFI", path: "MotcuaCoreFFI.xcframework"),
        .target(name: "MotcuaCore", dependencies: ["MotcuaCoreFFI"], path: "Sources/MotcuaCore"),
        .target(name: "MotcuaUI", dependencies: ["MotcuaCore"], path: "Sources/MotcuaUI"),
    ]
)
