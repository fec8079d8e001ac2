// The iOS app's entry point, for an Xcode iOS App target that adds the MotcuaUI package
// product: one AppModel for the app's lifetime. Not compiled here (no Swift toolchain).
import MotcuaUI
import SwiftUI

@main
struct MotcuaApp: App {
    @StateObject private var model = AppModel()

    var body: some Scene {
        WindowGroup {
            RootView(model: model)
                .task { await model.start() }
        }
    }
}
