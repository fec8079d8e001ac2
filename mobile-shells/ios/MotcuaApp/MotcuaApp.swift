// The iOS shell's entry point (SwiftUI): one AppModel for the app's lifetime. Not compiled
// in this repository (no Swift toolchain here): see ../../README.md.
import SwiftUI

@main
struct MotcuaApp: App {
    @StateObject private var model = AppModel()

    var body: some Scene {
        WindowGroup {
            ContentView(model: model)
                .task { await model.start() }
        }
    }
}
