// The iOS shell's one screen: search the catalogue (offline, with or without diacritics),
// sign in, and see my dossiers and the latest message.
import MotcuaCore
import SwiftUI

struct ContentView: View {
    @ObservedObject var model: AppModel
    @State private var query = ""
    @State private var login = ""
    @State private var password = ""

    var body: some View {
        NavigationStack {
            List {
                if let message = model.message {
                    Section { Text(message) }
                }
                Section("Thủ tục") {
                    TextField("Tìm thủ tục (vd: dang ky khai sinh)", text: $query)
                        .onSubmit { Task { await model.search(query) } }
                    ForEach(model.procedures, id: \.code) { p in
                        VStack(alignment: .leading) {
                            Text(p.name)
                            Text("\(p.code) · Lệ phí trực tuyến: \(p.feeOnlineVnd) đồng").font(.caption).foregroundStyle(.secondary)
                        }
                    }
                }
                if model.signedIn {
                    Section("Hồ sơ của tôi") {
                        ForEach(model.dossiers, id: \.id) { d in
                            VStack(alignment: .leading) {
                                Text(d.procedureName)
                                Text("\(d.code): \(d.statusLabel)").font(.caption)
                            }
                        }
                    }
                } else {
                    Section("Đăng nhập") {
                        TextField("Số căn cước hoặc điện thoại", text: $login)
                        SecureField("Mật khẩu", text: $password)
                        Button("Đăng nhập") { Task { await model.login(login, password) } }
                    }
                }
            }
            .navigationTitle("Một cửa")
        }
    }
}
