// The iOS app's model: the one MotcuaClient and, per screen, what it shows and what its
// buttons do (the same screens as the Android presentation layer). Every rule is the core's:
// search, the form view and its live validation, drafts, the outbox, sync. Network back
// (NWPathMonitor) → syncNow; a push's data → receivePush → the dossier it opens.
// Not compiled here (no Swift toolchain).
import Foundation
import MotcuaCore
import Network

/// The API's address; a real build takes it from its configuration.
let baseURL = "https://api.motcua.example.vn"

extension MotcuaError {
    /// The core's sentence for the citizen, in the client's language.
    var userMessage: String {
        switch self {
        case let .Validation(_, m), let .Throttled(_, m), let .Conflict(_, m), let .FileNotFound(_, m),
             let .Invalid(_, m), let .Other(_, m): return m
        case let .Network(m), let .WrongCredentials(m), let .SignedOut(m), let .NotFound(m), let .Closed(m),
             let .StoreInUse(m): return m
        }
    }
}

/// dd/mm/yyyy (HH:mm) in Vietnam's time, as a Vietnamese reader expects.
enum Formats {
    static let vietnam = TimeZone(secondsFromGMT: 7 * 3600)!
    static func dateTime(_ ms: Int64) -> String {
        let f = DateFormatter()
        f.dateFormat = "dd/MM/yyyy HH:mm"
        f.timeZone = vietnam
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
    static func day(_ iso: String) -> String {
        let parts = iso.split(separator: "-")
        return parts.count == 3 ? "\(parts[2])/\(parts[1])/\(parts[0])" : iso
    }
    static func action(_ a: TimelineAction) -> String {
        switch a {
        case .submit: return "Nộp hồ sơ"
        case .receive: return "Tiếp nhận hồ sơ"
        case .startProcessing: return "Bắt đầu xử lý"
        case .requestSupplement, .agencyRequestSupplement: return "Yêu cầu bổ sung"
        case .answerSupplement: return "Đã bổ sung hồ sơ"
        case .approve, .agencyApprove: return "Phê duyệt"
        case .reject, .agencyRefuse: return "Từ chối"
        case .returnResult: return "Trả kết quả"
        case .withdraw: return "Rút hồ sơ"
        case .forward: return "Chuyển cơ quan chuyên môn"
        case .assign: return "Phân công cán bộ"
        case .rate: return "Đánh giá"
        case let .unknown(code): return code
        }
    }
    static func money(_ vnd: Int64) -> String {
        if vnd == 0 { return "Miễn phí" }
        let f = NumberFormatter()
        f.numberStyle = .decimal
        f.groupingSeparator = "."
        return (f.string(from: NSNumber(value: vnd)) ?? "\(vnd)") + " đ"
    }
}

@MainActor
public final class AppModel: ObservableObject {
    @Published public var signedIn = false
    @Published var message: String?
    @Published var fieldErrors: [String: String] = [:]
    @Published var awaitingCode: String?
    @Published var procedures: [ProcedureItem] = []
    @Published var procedure: ProcedureDetail?
    @Published var form: FormView?
    @Published var drafts: [DraftSummary] = []
    @Published var outbox: [OutboxItem] = []
    @Published var sending: [String: String] = [:]
    @Published var dossiers: [DossierItem] = []
    @Published var dossier: DossierDetail?
    @Published var notifications: [NotificationItem] = []
    @Published var points: [ServicePoint] = []
    @Published var openDossier: String?
    private(set) var client: MotcuaClient?
    private let monitor = NWPathMonitor()

    public init() {}

    public func start() async {
        let dir = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
            .appendingPathComponent("motcua").path
        let config = ClientConfig(baseUrl: baseURL, dataDir: dir, language: "vi", uploadChunkSize: 0, requestTimeoutMs: 0)
        do {
            let opened = try await MotcuaClient.open(config: config, tokens: KeychainTokens(), transport: nil)
            opened.setListener(listener: Listener(model: self))
            client = opened
            signedIn = opened.isSignedIn()
        } catch {
            message = (error as? MotcuaError)?.userMessage ?? "\(error)"
            return
        }
        monitor.pathUpdateHandler = { [weak self] path in
            guard path.status == .satisfied else { return }
            Task { @MainActor in await self?.networkBack() }
        }
        monitor.start(queue: .global(qos: .utility))
        await run { c in _ = try await c.syncCatalogue() }
    }

    /// Runs one call; a core error becomes its sentence and the refused fields.
    @discardableResult
    private func run<T>(_ body: (MotcuaClient) async throws -> T) async -> T? {
        guard let client else { return nil }
        do {
            let value = try await body(client)
            message = nil
            fieldErrors = [:]
            return value
        } catch let error as MotcuaError {
            message = error.userMessage
            if case let .Validation(fields, _) = error {
                fieldErrors = Dictionary(fields.map { ($0.path, $0.message) }, uniquingKeysWith: { a, _ in a })
            }
            if case .SignedOut = error { signedIn = false }
            return nil
        } catch {
            message = "\(error)"
            return nil
        }
    }

    // Sign in and register.
    func register(citizenId: String, phone: String, name: String, password: String) async {
        awaitingCode = await run { c in try await c.register(citizenId: citizenId, phone: phone, fullName: name, password: password) }?.verificationId
    }
    func verify(code: String) async {
        guard let id = awaitingCode else { return }
        if await run({ c in try await c.verifyPhone(verificationId: id, code: code) }) != nil { awaitingCode = nil; signedIn = true }
    }
    func signIn(login: String, password: String) async {
        if await run({ c in try await c.login(login: login, password: password) }) != nil { signedIn = true }
    }
    func signOut() async {
        if await run({ c in try await c.logout() }) != nil { signedIn = false }
    }

    // Catalogue and a procedure's page.
    func search(_ query: String) async {
        procedures = await run { c in try await c.searchProcedures(query: query, field: nil, limit: 30) } ?? procedures
    }
    func openProcedure(_ code: String) async { procedure = await run { c in try await c.procedure(code: code) } }
    func startDraft(_ code: String) async -> String? { await run { c in try await c.createDraft(procedureCode: code) }?.summary.id }

    // The form, drawn from the core's view; every edit is saved and validated by the core.
    func openForm(_ draftId: String) async { form = await run { c in try await c.formView(draftId: draftId) } }
    func set(_ key: String, _ value: FieldValue?) async {
        guard let id = form?.draftId else { return }
        await run { c in try await c.setField(draftId: id, key: key, value: value) }
        await openForm(id)
    }
    func type(_ field: FormField, _ text: String) async {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let value: FieldValue?
        switch field.kind {
        case _ where trimmed.isEmpty: value = nil
        case .number: value = Double(trimmed.replacingOccurrences(of: ",", with: ".")).map { .number(value: $0) } ?? .text(value: text)
        case .date:
            let p = trimmed.split(whereSeparator: { "/.-".contains($0) })
            value = .date(value: p.count == 3 && p[2].count == 4 ? String(format: "%@-%02d-%02d", String(p[2]), Int(p[1]) ?? 0, Int(p[0]) ?? 0) : trimmed)
        default: value = .text(value: text)
        }
        await set(field.key, value)
    }
    func attach(_ key: String, fileURL: URL) async {
        guard let id = form?.draftId else { return }
        await run { c in try await c.attachFile(draftId: id, fieldKey: key, sourcePath: fileURL.path, fileName: fileURL.lastPathComponent) }
        await openForm(id)
    }
    func submit() async {
        guard let id = form?.draftId else { return }
        await run { c in try await c.submitDraft(draftId: id) }
        await openForm(id)
    }

    // Drafts and the outbox.
    func loadDrafts() async { drafts = await run { c in try await c.listDrafts() } ?? drafts }
    func loadOutbox() async { outbox = await run { c in try await c.outbox() } ?? outbox }
    func networkBack() async {
        await run { c in try await c.syncNow() }
        await loadOutbox()
    }
    func retry(_ id: String) async { await run { c in try await c.retryOutboxItem(itemId: id) }; await loadOutbox() }
    func cancel(_ id: String) async { await run { c in try await c.cancelOutboxItem(itemId: id) }; await loadOutbox() }

    // My dossiers: timeline, supplement answer, rating.
    func refreshDossiers() async {
        if let fresh = await run({ c in try await c.refreshDossiers() }) { dossiers = fresh }
        else { dossiers = (try? await client?.dossiers()) ?? dossiers }
    }
    func openDossier(_ id: String) async { dossier = await run { c in try await c.dossier(dossierId: id) } }
    func answerSupplement() async -> String? {
        guard let id = dossier?.item.id else { return nil }
        return await run { c in try await c.startSupplementAnswer(dossierId: id, note: nil) }?.summary.id
    }
    func rate(_ score: UInt32, _ comment: String) async {
        guard let id = dossier?.item.id else { return }
        await run { c in try await c.rateDossier(dossierId: id, score: score, comment: comment.isEmpty ? nil : comment) }
        await openDossier(id)
    }

    // Notifications (a tap or a push opens its dossier) and service points near a position.
    func refreshNotifications() async {
        if let fresh = await run({ c in try await c.refreshNotifications() }) { notifications = fresh }
    }
    func open(_ note: NotificationItem) async {
        await run { c in try await c.markNotificationRead(notificationId: note.id) }
        openDossier = note.dossierId
    }
    public func receivePush(_ data: [String: String]) async {
        if case let .dossier(id)? = await run({ c in try await c.receivePush(data: data) })?.target { openDossier = id }
    }
    public func pushToken(_ token: String) async {
        await run { c in try await c.registerDevice(token: token, platform: "ios", appVersion: "0.1.0") }
    }
    func near(lat: Double?, lng: Double?) async {
        await run { c in try await c.syncServicePoints() }
        points = await run { c in try await c.servicePoints(lat: lat, lng: lng, procedureCode: nil) } ?? points
    }
}

/// Forwards the core's background events to the model on the main actor.
final class Listener: EventListener, @unchecked Sendable {
    private weak var model: AppModel?

    init(model: AppModel) { self.model = model }

    func onOutboxEvent(event: OutboxEvent) {
        let id = event.itemId
        let now: String?
        switch event.stage {
        case let .uploading(_, sent, total): now = "Đang tải tệp \(total == 0 ? 100 : sent * 100 / total)%"
        case .submitting: now = "Đang gửi"
        default: now = nil
        }
        Task { @MainActor in
            self.model?.sending[id] = now
            await self.model?.loadOutbox()
        }
    }

    func onDossierStatusChanged(change: DossierStatusChange) {}

    func onSignedOut() {
        Task { @MainActor in self.model?.signedIn = false }
    }
}
