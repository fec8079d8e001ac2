// The SwiftUI screens: each draws the model's state for it and calls its actions; the form
// is drawn from the core's FormView (labels, options, what shows, issues). Photos come from
// PhotosPicker into a file attached to the draft. Not compiled here (no Swift toolchain).
import MotcuaCore
import PhotosUI
import SwiftUI

public struct RootView: View {
    @ObservedObject var model: AppModel

    public init(model: AppModel) { self.model = model }

    public var body: some View {
        if !model.signedIn {
            AuthView(model: model)
        } else {
            TabView {
                NavigationStack { CatalogueView(model: model) }.tabItem { Text("Thủ tục") }
                NavigationStack { DraftsView(model: model) }.tabItem { Text("Nháp") }
                NavigationStack { OutboxView(model: model) }.tabItem { Text("Hộp thư đi") }
                NavigationStack { DossiersView(model: model) }.tabItem { Text("Hồ sơ") }
                NavigationStack { NotificationsView(model: model) }.tabItem { Text("Thông báo") }
                NavigationStack { PointsView(model: model) }.tabItem { Text("Điểm phục vụ") }
            }
            .sheet(item: Binding(get: { model.openDossier.map(Opened.init) }, set: { model.openDossier = $0?.id })) { opened in
                NavigationStack { DossierView(model: model, id: opened.id) }
            }
        }
    }
}

struct Opened: Identifiable { let id: String }

struct AuthView: View {
    @ObservedObject var model: AppModel
    @State private var phone = ""
    @State private var password = ""
    @State private var citizenId = ""
    @State private var name = ""
    @State private var code = ""

    var body: some View {
        Form {
            if let m = model.message { Text(m).foregroundStyle(.red) }
            if model.awaitingCode != nil {
                TextField("Mã 6 số", text: $code)
                Button("Xác thực") { Task { await model.verify(code: code) } }
            } else {
                TextField("Số điện thoại", text: $phone)
                SecureField("Mật khẩu", text: $password)
                Button("Đăng nhập") { Task { await model.signIn(login: phone, password: password) } }
                Section("Đăng ký") {
                    TextField("Số CCCD", text: $citizenId)
                    TextField("Họ và tên", text: $name)
                    Button("Đăng ký") { Task { await model.register(citizenId: citizenId, phone: phone, name: name, password: password) } }
                }
            }
        }
    }
}

struct CatalogueView: View {
    @ObservedObject var model: AppModel
    @State private var query = ""

    var body: some View {
        List(model.procedures, id: \.code) { p in
            NavigationLink(value: p.code) {
                VStack(alignment: .leading) {
                    Text(p.name)
                    Text("\(Formats.money(p.feeOnlineVnd)) · \(p.processingDays) ngày làm việc").font(.caption)
                }
            }
        }
        .searchable(text: $query, prompt: "Tìm thủ tục (vd: dang ky khai sinh)")
        .onChange(of: query) { q in Task { await model.search(q) } }
        .navigationDestination(for: String.self) { code in ProcedureView(model: model, code: code) }
        .navigationTitle("Thủ tục")
    }
}

struct ProcedureView: View {
    @ObservedObject var model: AppModel
    let code: String
    @State private var draft: String?

    var body: some View {
        List {
            if let p = model.procedure?.item {
                Text(p.name).font(.headline)
                Text("Lệ phí: \(Formats.money(p.feeVnd)) (trực tuyến \(Formats.money(p.feeOnlineVnd)))")
                Text("Thời hạn: \(p.processingDays) ngày làm việc · \(p.agency)")
                Button("Nộp hồ sơ") { Task { draft = await model.startDraft(code) } }
            }
        }
        .task { await model.openProcedure(code) }
        .navigationDestination(item: Binding(get: { draft.map(Opened.init) }, set: { draft = $0?.id })) { d in FormScreenView(model: model, draftId: d.id) }
    }
}

struct FormScreenView: View {
    @ObservedObject var model: AppModel
    let draftId: String

    var body: some View {
        Form {
            if let form = model.form {
                if let m = model.message { Text(m).foregroundStyle(.red) }
                ForEach(form.fields.filter(\.visible), id: \.key) { field in FieldView(model: model, field: field, editable: form.editable) }
                Text(form.issues.isEmpty ? "Sẵn sàng gửi" : "Còn \(form.issues.count) mục cần sửa")
                if form.editable { Button("Gửi") { Task { await model.submit() } } }
            }
        }
        .navigationTitle(model.form?.procedureName ?? "")
        .task { await model.openForm(draftId) }
    }
}

struct FieldView: View {
    @ObservedObject var model: AppModel
    let field: FormField
    let editable: Bool
    @State private var text = ""
    @State private var photo: PhotosPickerItem?

    var body: some View {
        VStack(alignment: .leading) {
            switch field.kind {
            case let .select(options, _):
                Picker(field.label, selection: Binding(get: { if case let .choice(v)? = field.value { return v } else { return "" } },
                                                      set: { v in Task { await model.set(field.key, .choice(value: v)) } })) {
                    ForEach(options, id: \.value) { Text($0.label).tag($0.value) }
                }
            case .checkbox:
                Toggle(field.label, isOn: Binding(get: { if case .bool(true)? = field.value { return true } else { return false } },
                                                  set: { v in Task { await model.set(field.key, .bool(value: v)) } }))
            case let .attachment(_, _, _, _, files):
                Text(field.label)
                ForEach(files, id: \.id) { Text($0.fileName).font(.caption) }
                if editable {
                    PhotosPicker("Chọn ảnh", selection: $photo, matching: .images)
                        .onChange(of: photo) { item in
                            Task {
                                guard let data = try? await item?.loadTransferable(type: Data.self) else { return }
                                let url = FileManager.default.temporaryDirectory.appendingPathComponent("photo-\(UUID()).jpg")
                                try? data.write(to: url)
                                await model.attach(field.key, fileURL: url)
                            }
                        }
                }
            case .group:
                Text("\(field.label) (xem trên máy tính)")
            default:
                TextField(field.label + (field.required ? " *" : ""), text: $text)
                    .disabled(!editable)
                    .onChange(of: text) { t in Task { await model.type(field, t) } }
            }
            ForEach(field.issues, id: \.code) { Text($0.message).font(.caption).foregroundStyle(.red) }
        }
    }
}

struct DraftsView: View {
    @ObservedObject var model: AppModel
    var body: some View {
        List(model.drafts, id: \.id) { d in
            NavigationLink(value: d.id) { Text(d.procedureName + (d.supplementFor != nil ? " (bổ sung)" : "")) }
        }
        .navigationDestination(for: String.self) { id in FormScreenView(model: model, draftId: id) }
        .task { await model.loadDrafts() }
    }
}

struct OutboxView: View {
    @ObservedObject var model: AppModel
    var body: some View {
        List(model.outbox, id: \.id) { item in
            VStack(alignment: .leading) {
                switch item.state {
                case .sent: Text("Đã gửi")
                case .parked: Text("Cần xử lý"); Button("Thử lại") { Task { await model.retry(item.id) } }
                case .pending:
                    Text(model.sending[item.id] ?? (item.attempts > 0 ? "Chờ có mạng, thử lại lúc \(Formats.dateTime(item.nextAttemptAtMs))" : "Đang chờ gửi"))
                    Button("Rút lại để sửa") { Task { await model.cancel(item.id) } }
                }
            }
        }
        .toolbar { Button("Gửi ngay") { Task { await model.networkBack() } } }
        .task { await model.loadOutbox() }
    }
}

struct DossiersView: View {
    @ObservedObject var model: AppModel
    var body: some View {
        List(model.dossiers, id: \.id) { d in
            NavigationLink(value: d.id) {
                VStack(alignment: .leading) {
                    Text("\(d.code) · \(d.procedureName)")
                    Text(d.statusLabel + (d.dueDate.map { " · hạn \(Formats.day($0))" } ?? "")).font(.caption)
                }
            }
        }
        .navigationDestination(for: String.self) { id in DossierView(model: model, id: id) }
        .task { await model.refreshDossiers() }
    }
}

struct DossierView: View {
    @ObservedObject var model: AppModel
    let id: String
    @State private var answer: String?
    @State private var comment = ""

    var body: some View {
        List {
            if let d = model.dossier {
                Text("\(d.item.code): \(d.item.statusLabel)").font(.headline)
                if let note = d.supplementRequest?.note {
                    Text("Yêu cầu bổ sung: \(note)")
                    Button("Bổ sung hồ sơ") { Task { answer = await model.answerSupplement() } }
                }
                if d.item.status == .resultReturned && d.ratingScore == nil {
                    TextField("Nhận xét", text: $comment)
                    HStack { ForEach(1...5, id: \.self) { s in Button("\(s)★") { Task { await model.rate(UInt32(s), comment) } } } }
                }
                ForEach(Array(d.timeline.enumerated()), id: \.offset) { _, t in
                    Text("\(Formats.dateTime(t.atMs)) · \(Formats.action(t.action))" + (t.note.map { ": \($0)" } ?? ""))
                }
            }
        }
        .task { await model.openDossier(id) }
        .navigationDestination(item: Binding(get: { answer.map(Opened.init) }, set: { answer = $0?.id })) { a in FormScreenView(model: model, draftId: a.id) }
    }
}

struct NotificationsView: View {
    @ObservedObject var model: AppModel
    var body: some View {
        List(model.notifications, id: \.id) { n in
            Button { Task { await model.open(n) } } label: {
                VStack(alignment: .leading) { Text((n.read ? "" : "● ") + n.title); Text(n.body).font(.caption) }
            }
        }
        .task { await model.refreshNotifications() }
    }
}

struct PointsView: View {
    @ObservedObject var model: AppModel
    var body: some View {
        // The position comes from CLLocationManager in a full build; without one, every point.
        List(model.points, id: \.code) { p in
            VStack(alignment: .leading) { Text(p.name); Text(p.address).font(.caption) }
        }
        .task { await model.near(lat: nil, lng: nil) }
    }
}
