// Kotlin (JVM) tests of the generated bindings against a live motcua-server started here
// (the binary named by MOTCUA_SERVER_BIN): the citizen's journey (register, catalogue,
// search without diacritics, an offline draft with validation errors then fixed, submit
// while the server is down, delivery once when it is back, the status change after an
// officer acts), the app's own HTTP stack with a parked outbox item, and a field report
// drafted offline with two photos carrying GPS EXIF, sent once, cached and followed. Forms are
// filled and drawn generically from the core's form view (`typed`, `render`). A plain main()
// runner: one line per test, then "N passed, N failed", and a non-zero exit on failure.
package motcua.bindings.test

import java.io.File
import java.net.ServerSocket
import java.net.URI
import java.nio.file.Files
import java.time.Duration
import java.time.LocalDate
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit
import kotlin.random.Random
import kotlin.system.exitProcess
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import vn.motcua.client.*

const val BRANCH = "H26.01"
const val OFFICER_PHONE = "0987654321"
const val OFFICER_PASSWORD = "canbo12345"

class TestFailure(message: String) : AssertionError(message)

fun expect(condition: Boolean, what: () -> String) {
    if (!condition) throw TestFailure(what())
}

fun <T> expectEqual(actual: T, expected: T, what: String) {
    if (actual != expected) throw TestFailure("$what: expected <$expected>, got <$actual>")
}

suspend inline fun <reified E : Throwable> expectThrows(block: suspend () -> Unit): E {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) return e
        throw TestFailure("expected ${E::class.simpleName}, got $e")
    }
    throw TestFailure("expected ${E::class.simpleName}, nothing was thrown")
}

/** One motcua-server process over one database; stop() and start() keep both. */
class Server(private val binary: String, private val dir: File) {
    private val port = ServerSocket(0).use { it.localPort }
    val baseUrl = "http://127.0.0.1:$port"
    private var process: Process? = null
    private val http = java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()
    private val env = mapOf(
        "MOTCUA_ADDR" to "127.0.0.1:$port",
        "DATABASE_URL" to "sqlite://${dir.absolutePath}/s.db",
        "MOTCUA_BLOB_DIR" to "${dir.absolutePath}/blobs",
        "MOTCUA_LOG_FORMAT" to "pretty",
        "MOTCUA_AUTH_RATE_PER_MIN" to "100000",
        "MOTCUA_DOSSIERS_PER_MINUTE" to "1000",
        "MOTCUA_SMS_DIR" to "${dir.absolutePath}/sms",
        "RUST_LOG" to "warn",
    )

    private fun command(vararg args: String): ProcessBuilder {
        val builder = ProcessBuilder(listOf(binary) + args)
        builder.environment().putAll(env)
        return builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(File(dir, "server.log")))
    }

    fun start() {
        val started = command().start()
        process = started
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
        while (System.nanoTime() < deadline) {
            expect(started.isAlive) { "motcua-server exited: see ${dir}/server.log" }
            val healthy = runCatching { call("GET", "/healthz").first == 200 }.getOrDefault(false)
            if (healthy) return
            Thread.sleep(50)
        }
        throw TestFailure("motcua-server did not become healthy in 30 s")
    }

    fun stop() {
        val running = process ?: return
        running.destroy()
        if (!running.waitFor(15, TimeUnit.SECONDS)) running.destroyForcibly().waitFor()
        process = null
    }

    fun addOfficer() {
        val added = command(
            "user", "add", "--role", "officer", "--branch", BRANCH, "--phone", OFFICER_PHONE, "--name", "Cán bộ",
        ).redirectInput(ProcessBuilder.Redirect.PIPE).start()
        added.outputStream.use { it.write("$OFFICER_PASSWORD\n".toByteArray()) }
        expectEqual(added.waitFor(), 0, "motcua-server user add")
    }

    /** The six-digit code in the last SMS the server's development sink wrote for [phone]. */
    fun codeFor(phone: String): String {
        val text = File(dir, "sms/$phone.txt").readText()
        return Regex("\\b\\d{6}\\b").find(text)?.value ?: throw TestFailure("no code in the SMS: $text")
    }

    /** One raw JSON call; returns (status, body text). */
    fun call(method: String, path: String, token: String? = null, json: String? = null): Pair<Int, String> {
        val request = java.net.http.HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(10))
        val body = if (json == null) java.net.http.HttpRequest.BodyPublishers.noBody()
        else java.net.http.HttpRequest.BodyPublishers.ofString(json)
        request.method(method, body)
        if (json != null) request.header("Content-Type", "application/json")
        if (token != null) request.header("Authorization", "Bearer $token")
        val response = http.send(request.build(), java.net.http.HttpResponse.BodyHandlers.ofString())
        return response.statusCode() to response.body()
    }

    /** A whole file uploaded as [token] (`POST /api/v1/attachments`); returns (status, body text). */
    fun upload(token: String, name: String, bytes: ByteArray): Pair<Int, String> {
        val query = java.net.URLEncoder.encode(name, Charsets.UTF_8).replace("+", "%20")
        val request = java.net.http.HttpRequest.newBuilder(URI.create("$baseUrl/api/v1/attachments?name=$query"))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/octet-stream")
            .header("Authorization", "Bearer $token")
            .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(bytes))
        val response = http.send(request.build(), java.net.http.HttpResponse.BodyHandlers.ofString())
        return response.statusCode() to response.body()
    }

    fun officerToken(): String {
        val (status, body) = call("POST", "/api/v1/auth/login", json = """{"login":"$OFFICER_PHONE","password":"$OFFICER_PASSWORD"}""")
        expectEqual(status, 200, "officer login ($body)")
        return Regex("\"access_token\"\\s*:\\s*\"([^\"]+)\"").find(body)?.groupValues?.get(1)
            ?: throw TestFailure("no access_token in $body")
    }
}

class MemoryTokens : TokenStore {
    @Volatile var tokens: StoredTokens? = null
    override fun load(): StoredTokens? = tokens
    override fun save(tokens: StoredTokens) {
        this.tokens = tokens
    }
    override fun clear() {
        tokens = null
    }
}

class Recorder : EventListener {
    val outboxEvents = CopyOnWriteArrayList<OutboxEvent>()
    val changes = CopyOnWriteArrayList<DossierStatusChange>()
    override fun onOutboxEvent(event: OutboxEvent) {
        outboxEvents.add(event)
    }
    override fun onDossierStatusChanged(change: DossierStatusChange) {
        changes.add(change)
    }
    override fun onSignedOut() {}
}

/** The app's own HTTP stack (java.net.http), with a log and injected answers per path fragment. */
class JdkTransport : Transport {
    private val http = java.net.http.HttpClient.newBuilder()
        .connectTimeout(Duration.ofSeconds(2))
        .followRedirects(java.net.http.HttpClient.Redirect.NEVER)
        .build()
    val log = CopyOnWriteArrayList<String>()
    val inject = java.util.concurrent.ConcurrentHashMap<String, Int>()
    private val restricted = setOf("connection", "content-length", "host", "expect", "upgrade")

    override fun send(request: HttpRequest): HttpResponse {
        val path = URI.create(request.url).path
        log.add("${request.method} $path")
        for ((fragment, status) in inject) {
            if (request.method == "POST" && path.endsWith(fragment) && inject.remove(fragment) != null) {
                val body = """{"error":{"code":"forbidden","message":"injected"}}""".toByteArray()
                return HttpResponse(status.toUShort(), listOf(HttpHeader("content-type", "application/json")), body)
            }
        }
        val builder = java.net.http.HttpRequest.newBuilder(URI.create(request.url)).timeout(Duration.ofSeconds(10))
            .method(request.method, java.net.http.HttpRequest.BodyPublishers.ofByteArray(request.body))
        request.headers.filter { it.name.lowercase() !in restricted }.forEach { builder.header(it.name, it.value) }
        val response = try {
            http.send(builder.build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray())
        } catch (e: java.io.IOException) {
            throw MotcuaException.Network("offline")
        }
        val headers = response.headers().map().flatMap { (name, values) -> values.map { HttpHeader(name, it) } }
        return HttpResponse(response.statusCode().toUShort(), headers, response.body())
    }
}

fun config(server: Server, dir: File) =
    ClientConfig(server.baseUrl, File(dir, "phone").absolutePath, "vi", 16UL * 1024UL, 5000UL)

/** Every required value of the birth registration form, as plain values, valid today. */
fun birthValues(): List<Pair<String, Any>> = listOf(
    "ho_ten" to "Nguyễn Văn An",
    "so_cccd" to "001099012345",
    "dien_thoai" to "0912345678",
    "noi_cu_tru" to mapOf("province" to "Hà Nội", "ward" to "Phường Hoàn Kiếm", "street" to "12 Hàng Bài"),
    "nguoi_nop" to "ban_than",
    "quan_he" to "cha",
    "tre_ho_ten" to "Nguyễn Minh Khôi",
    "tre_ngay_sinh" to LocalDate.now().minusDays(10).toString(),
    "tre_gioi_tinh" to "nam",
    "tre_dan_toc" to "kinh",
    "noi_sinh_loai" to "co_so_y_te",
    "ten_co_so_y_te" to "Bệnh viện Phụ sản Hà Nội",
    "noi_sinh" to mapOf("province" to "Hà Nội", "ward" to "Phường Đống Đa"),
    "me_ho_ten" to "Trần Thị Bình",
    "me_so_cccd" to "001195012346",
    "me_ngay_sinh" to "1995-05-20",
    "hinh_thuc_nhan" to "truc_tiep",
    "cam_doan" to true,
)

/** The typed value of a plain value for a field of the core's form view: the one place that
 *  maps the view's kinds to `FieldValue`, as an app's generic form renderer does. */
@Suppress("UNCHECKED_CAST")
fun typed(field: FormField, value: Any): FieldValue = when (val k = field.kind) {
    is FormFieldKind.Text, FormFieldKind.CitizenId, FormFieldKind.Phone, FormFieldKind.Email -> FieldValue.Text(value as String)
    is FormFieldKind.Number -> FieldValue.Number((value as Number).toDouble())
    is FormFieldKind.Date -> FieldValue.Date(value as String)
    is FormFieldKind.Select -> if (k.multiple) FieldValue.Choices(value as List<String>) else FieldValue.Choice(value as String)
    is FormFieldKind.Checkbox -> FieldValue.Bool(value as Boolean)
    is FormFieldKind.Address -> (value as Map<String, String>).let {
        FieldValue.Address(it.getValue("province"), it["ward"] ?: "", it["ward_code"], it["district"], it["street"])
    }
    is FormFieldKind.Group -> FieldValue.Group((value as List<Map<String, Any>>).map { item ->
        item.mapValues { (key, v) -> typed(k.template.first { it.key == key }, v) }
    })
    is FormFieldKind.Attachment -> throw TestFailure("${field.key}: files go through attachFile")
}

/** A text rendering of the visible fields, from the view alone (what a screen draws). */
fun render(fields: List<FormField>, depth: Int = 0): List<String> = fields.filter { it.visible }.flatMap { f ->
    val k = f.kind
    if (k is FormFieldKind.Date) {
        expect(listOfNotNull(k.min, k.max).all { Regex("\\d{4}-\\d{2}-\\d{2}").matches(it) }) { "${f.key}: $k" }
    }
    if (k is FormFieldKind.Select) expect(k.options.isNotEmpty() && k.options.all { it.label.isNotEmpty() }) { f.key }
    val line = "  ".repeat(depth) + f.label + (if (f.required) " *" else "") + ": ${f.value}" + f.issues.joinToString("") { " [${it.message}]" }
    listOf(line) + if (k is FormFieldKind.Group) k.items.flatMap { render(it.fields, depth + 1) } else emptyList()
}

suspend fun fill(client: MotcuaClient, draftId: String): List<FieldIssue> {
    val byKey = client.formView(draftId).fields.associateBy { it.key }
    var issues = emptyList<FieldIssue>()
    for ((key, value) in birthValues()) issues = client.setField(draftId, key, typed(byKey.getValue(key), value))
    return issues
}

/** Two files that look like PNG scans (the server checks the type). */
suspend fun attachScans(client: MotcuaClient, draftId: String, dir: File) {
    for (field in listOf("tep_to_khai", "tep_giay_chung_sinh")) {
        val file = File(dir, "$field.png")
        file.writeBytes(byteArrayOf(0x89.toByte(), 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A) + Random.nextBytes(30_000))
        val attached = client.attachFile(draftId, field, file.absolutePath, file.name)
        expect(attached.fieldKey == field && attached.size == file.length().toULong() && !attached.uploaded) { "$attached" }
    }
}

/** What an app does when the network is back: pass over the outbox as items fall due. */
suspend fun syncUntilSent(client: MotcuaClient, expected: UInt) {
    val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
    var sent = 0u
    while (true) {
        val report = client.syncOutbox()
        sent += report.sent
        if (report.pending == 0u) {
            expectEqual(sent, expected, "dossiers sent ($report)")
            return
        }
        expect(System.nanoTime() < deadline) { "outbox still pending: $report" }
        delay(minOf((report.nextRetryInMs ?: 100UL).toLong(), 2000L))
    }
}

suspend fun citizenJourney(server: Server, dir: File) {
    val tokens = MemoryTokens()
    val events = Recorder()
    val client = MotcuaClient.open(config(server, dir), tokens, null)
    client.setListener(events)
    expect(!client.isSignedIn()) { "signed in before registering" }
    expectEqual(client.currentUser(), null, "user before registering")

    val pending = client.register("001099012345", "0912345678", "Nguyễn Văn An", "matkhau12345")
    expectEqual(pending.phone, "0912345678", "the code went to the canonical number")
    expect(!client.isSignedIn()) { "signed in before the phone was verified" }
    val code = server.codeFor("0912345678")
    val wrongCode = if (code == "000000") "111111" else "000000"
    val wrong = expectThrows<MotcuaException.Validation> { client.verifyPhone(pending.verificationId, wrongCode) }
    expect(wrong.fields.any { it.path == "code" }) { "${wrong.fields}" }
    val profile = client.verifyPhone(pending.verificationId, code)
    expectEqual(profile.role, Role.Citizen as Role, "role")
    expect(client.isSignedIn() && tokens.tokens != null) { "tokens were not saved" }

    val report = client.syncCatalogue()
    expect(report.changed >= 50u && !report.notModified) { "$report" }
    expectEqual(client.catalogueVersion(), report.version, "catalogue version")
    expect(client.fields().any { it.code == "ho_tich" }) { "no ho_tich field" }
    val wards = client.wards("Hà Nội")
    expectEqual(wards.size, 126, "Hanoi's wards")
    expect(wards.any { it.code == "00070" && it.name == "Phường Hoàn Kiếm" }) { "no Phường Hoàn Kiếm" }
    val found = client.searchProcedures("dang ky khai sinh", null, 5u)
    expectEqual(found.firstOrNull()?.name, "Đăng ký khai sinh", "first search hit")
    val birth = found.first()
    expect(!birth.nearest) { "a search that names a procedure is not answered with the nearest" }
    expect(birth.onlineLevel == OnlineLevel.Full || birth.onlineLevel == OnlineLevel.Partial) { "${birth.onlineLevel}" }
    expect(client.searchProcedures("xyzzy", null, 3u).all { it.nearest }) { "no empty page: the nearest procedures" }
    expect(client.procedure(birth.code).formJson.contains("tre_ngay_sinh")) { "form without tre_ngay_sinh" }
    val residence = client.procedure("1.004222").item
    expectEqual(residence.feeVnd to residence.feeOnlineVnd, 20000L to 10000L, "counter and online fee")

    // Service points, cached for offline use.
    expect(client.syncServicePoints().any { it.code == BRANCH }) { "no $BRANCH among the service points" }

    // Offline from here until the server starts again.
    server.stop()
    val near = client.servicePoints(21.0285, 105.8542, birth.code)
    expect(near.first().distanceKm!! < 5.0 && near.zipWithNext().all { (a, b) -> a.distanceKm!! <= b.distanceKm!! }) { "$near" }
    val unknownPoint = expectThrows<MotcuaException.Validation> { client.setBranch(client.createDraft(birth.code).summary.id, "H99.99") }
    expectEqual(unknownPoint.fields.map { it.path }, listOf("branch_code"), "unknown service point")
    val draftId = client.createDraft(birth.code).summary.id
    // The form, drawn from the core's view alone (offline): labels, what shows, issues.
    val view = client.formView(draftId)
    expect(view.editable && view.procedureCode == birth.code) { "$view" }
    val lines = render(view.fields)
    expectEqual(lines.count { !it.startsWith(" ") }, view.fields.count { it.visible }, "rendered fields")
    expect(view.fields.any { !it.visible }) { "conditional fields are hidden until their condition holds" }
    val address = view.fields.first { it.kind is FormFieldKind.Address }.kind as FormFieldKind.Address
    expectEqual(address.provinces, client.provinces(), "provinces of an address field")
    val slot = view.fields.first { it.kind is FormFieldKind.Attachment }.kind as FormFieldKind.Attachment
    expect(slot.maxBytes == 10UL * 1024UL * 1024UL && "application/pdf" in slot.acceptedTypes) { "$slot" }
    val byKey = view.fields.associateBy { it.key }
    client.setField(draftId, "ho_ten", typed(byKey.getValue("ho_ten"), "A"))
    val issues = client.setField(draftId, "so_cccd", typed(byKey.getValue("so_cccd"), "12345")).associate { it.path to it.code }
    expectEqual(issues["ho_ten"], "too_short", "ho_ten issue")
    expectEqual(issues["so_cccd"], "invalid_citizen_id", "so_cccd issue")
    val refused = expectThrows<MotcuaException.Validation> { client.submitDraft(draftId) }
    expect(refused.fields.any { it.path == "ho_ten" } && refused.fields.all { it.message.isNotEmpty() }) { "${refused.fields}" }

    expectEqual(fill(client, draftId).map { it.path }.toSet(), setOf("tep_to_khai", "tep_giay_chung_sinh"), "left to do")
    attachScans(client, draftId, dir)
    client.setBranch(draftId, BRANCH)
    expectEqual(client.validateDraft(draftId), emptyList(), "issues of the filled draft")
    val item = client.submitDraft(draftId)
    expectEqual(item.state, OutboxState.PENDING, "queued item")
    expectEqual(client.draft(draftId).summary.state, DraftState.QUEUED, "draft state")
    val offline = client.syncOutbox()
    expect(offline.sent == 0u && offline.pending == 1u) { "$offline" }
    expect(events.outboxEvents.any { it.stage is OutboxStage.Retrying }) { "no Retrying event" }
    expectThrows<MotcuaException.Network> { client.refreshDossiers() }

    // Back online (the app's connectivity callback): sent now, despite the backoff.
    server.start()
    val now = client.syncNow()
    expect(now.sent == 1u && now.pending == 0u) { "$now" }
    val sent = events.outboxEvents.map { it.stage }.filterIsInstance<OutboxStage.Sent>()
    expectEqual(sent.size, 1, "Sent events")
    val dossierId = sent[0].dossierId
    expectEqual(client.syncOutbox().sent, 0u, "sent by a second pass")
    expectEqual(client.outbox().map { it.dossierId }, listOf<String?>(dossierId), "outbox")
    expectEqual(client.refreshDossiers().map { it.id to it.status }, listOf(dossierId to DossierStatus.Submitted), "my dossiers")
    val officer = server.officerToken()
    val (queueStatus, queue) = server.call("GET", "/api/v1/dossiers", officer)
    expect(queueStatus == 200 && Regex("\"id\"\\s*:\\s*\"$dossierId\"").findAll(queue).count() == 1) { queue }

    // The officer receives it; the citizen sees the new status.
    val (status, body) = server.call("POST", "/api/v1/dossiers/$dossierId/transitions", officer, """{"action":"receive"}""")
    expectEqual(status, 200, "receive ($body)")
    val received: DossierStatus = DossierStatus.Received
    expectEqual(client.refreshDossiers().map { it.id to it.status }, listOf(dossierId to received), "after receive")
    expectEqual(events.changes.map { it.dossierId to it.toStatus }, listOf(dossierId to received), "status events")
    expectEqual(client.dossiers().single().status, received, "cached dossier")
    val full = client.dossier(dossierId)
    expect(full.timeline.any { it.action == TimelineAction.Receive }) { "no receive in the timeline" }
    expectEqual(full.supplementRequest, null, "no supplement asked yet")
    // Anyone with the receipt follows it, without an account.
    val anyone = MotcuaClient.open(config(server, File(dir, "anyone")), MemoryTokens(), null)
    val tracked = anyone.trackDossier(full.item.code, full.trackingVerifier ?: throw TestFailure("no verifier"))
    expectEqual(tracked.code to tracked.status, full.item.code to received, "tracked dossier")
    expectEqual(tracked.steps.last().status, received, "last public step")
    expectThrows<MotcuaException.NotFound> { anyone.trackDossier(full.item.code, if (full.trackingVerifier == "0000") "1111" else "0000") }
    anyone.shutdown()

    // The officer asks for a supplement; the citizen answers it offline, sent once.
    val (asked, askBody) = server.call("POST", "/api/v1/dossiers/$dossierId/transitions", officer,
        """{"action":"request_supplement","note":"Bổ sung bản sao giấy chứng sinh"}""")
    expectEqual(asked, 200, "request_supplement ($askBody)")
    val request = client.dossier(dossierId).supplementRequest ?: throw TestFailure("the request is not on the dossier")
    expectEqual(request.note, "Bổ sung bản sao giấy chứng sinh", "what is missing")
    server.stop()
    val answer = client.startSupplementAnswer(dossierId, "Đã bổ sung")
    expect(answer.summary.supplementFor == dossierId && answer.issues.isEmpty() && answer.files.all { it.uploaded }) { "$answer" }
    val answerFields = client.formView(answer.summary.id).fields.associateBy { it.key }
    expectEqual(answerFields.getValue("tre_ho_ten").value, FieldValue.Text("Nguyễn Minh Khôi") as FieldValue?, "the dossier's value")
    client.setField(answer.summary.id, "tre_ho_ten", typed(answerFields.getValue("tre_ho_ten"), "Nguyễn Minh Khang"))
    val copy = File(dir, "ban-sao.png").apply { writeBytes(byteArrayOf(0x89.toByte(), 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A) + Random.nextBytes(5_000)) }
    client.attachFile(answer.summary.id, "tep_giay_chung_sinh", copy.absolutePath, "ban-sao.png")
    client.submitDraft(answer.summary.id)
    expectEqual(client.syncOutbox().pending, 1u, "the answer waits for the network")
    server.start()
    expectEqual(client.syncNow().sent, 1u, "the answer sent")
    val answered = client.dossier(dossierId)
    expect(answered.supplementRequest == null && answered.item.status == DossierStatus.InProcessing) { "${answered.item}" }
    expectEqual(answered.timeline.count { it.action == TimelineAction.AnswerSupplement }, 1, "answers")

    // The officer finishes it; the citizen rates it, once.
    expectEqual(expectThrows<MotcuaException.Conflict> { client.rateDossier(dossierId, 5u, null) }.reason, "not_returned_yet", "early rating")
    for (action in listOf("approve")) {
        val (s, b) = server.call("POST", "/api/v1/dossiers/$dossierId/transitions", officer, """{"action":"$action"}""")
        expectEqual(s, 200, "$action ($b)")
    }
    // The officer attaches the signed decision; the citizen downloads it once returned.
    expectThrows<MotcuaException.NotFound> { client.downloadResult(dossierId) }
    val decision = "%PDF-1.7\n% Giay khai sinh ban chinh\n%%EOF\n".toByteArray()
    val (uploaded, stored) = server.upload(officer, "Giấy khai sinh.pdf", decision)
    expectEqual(uploaded, 201, "result upload ($stored)")
    val attachmentId = Regex("\"id\"\\s*:\\s*\"([^\"]+)\"").find(stored)?.groupValues?.get(1) ?: throw TestFailure("no id in $stored")
    val (attached, attachedBody) = server.call("POST", "/api/v1/dossiers/$dossierId/result", officer, """{"attachment_id":"$attachmentId"}""")
    expectEqual(attached, 200, "attach result ($attachedBody)")
    expectEqual(expectThrows<MotcuaException.Conflict> { client.downloadResult(dossierId) }.reason, "not_returned_yet", "early download")
    val (returned, returnedBody) = server.call("POST", "/api/v1/dossiers/$dossierId/transitions", officer, """{"action":"return_result"}""")
    expectEqual(returned, 200, "return_result ($returnedBody)")
    val result = client.downloadResult(dossierId)
    expectEqual(result.fileName to result.contentType, "Giấy khai sinh.pdf" to "application/pdf", "result file")
    expectEqual(result.bytes.toList(), decision.toList(), "result bytes")
    val rated = client.rateDossier(dossierId, 5u, "Nhanh gọn") ?: throw TestFailure("queued while online")
    expectEqual(rated.ratingScore to rated.ratingComment, 5u to "Nhanh gọn", "rating")
    expectEqual(expectThrows<MotcuaException.Conflict> { client.rateDossier(dossierId, 4u, null) }.reason, "already_rated", "second rating")
    val note = client.refreshNotifications().first { it.dossierId == dossierId }
    expectEqual(note.kind, NotificationKind.DossierStatus as NotificationKind, "notification kind")
    client.markNotificationRead(note.id)
    expect(client.notifications().single { it.id == note.id }.read) { "notification not read" }

    client.logout()
    expect(!client.isSignedIn() && tokens.tokens == null && client.listDrafts().isEmpty()) { "data left after logout" }
    client.shutdown()
}

suspend fun appTransport(server: Server, dir: File) {
    val transport = JdkTransport()
    val client = MotcuaClient.open(config(server, dir), MemoryTokens(), transport)
    val pending = client.register("079305000001", "0912000001", "Lê Thị Cúc", "matkhau12345")
    val profile = client.verifyPhone(pending.verificationId, server.codeFor("0912000001"))
    expectEqual(client.login("0912000001", "matkhau12345").id, profile.id, "login")
    client.syncCatalogue()
    expect("POST /api/v1/auth/login" in transport.log) { "${transport.log}" }
    expectThrows<MotcuaException.NotFound> { client.procedure("9.999999") }
    val wrongPassword = expectThrows<MotcuaException.WrongCredentials> { client.login("0912000001", "sai-mat-khau-1") }
    expect(wrongPassword.userMessage.contains("không đúng")) { wrongPassword.userMessage }
    var throttled: MotcuaException.Throttled? = null
    for (attempt in 1..12) {
        try {
            client.login("0912000001", "sai-mat-khau-1")
        } catch (e: MotcuaException.WrongCredentials) {
            continue
        } catch (e: MotcuaException.Throttled) {
            throttled = e
            break
        }
    }
    expect(throttled != null && throttled.retryAfterSecs >= 1UL && throttled.userMessage.isNotEmpty()) { "not throttled" }

    val birth = client.searchProcedures("khai sinh", "ho_tich", 0u).first()
    val draftId = client.createDraft(birth.code).summary.id
    val missing = File(dir, "none.png").absolutePath
    val noFile = expectThrows<MotcuaException.FileNotFound> { client.attachFile(draftId, "tep_to_khai", missing, "none.png") }
    expectEqual(noFile.path, missing, "the missing file's path")
    // Values of another kind, attachment fields and files of the wrong type: field errors.
    val wrongKind = expectThrows<MotcuaException.Validation> { client.setField(draftId, "ho_ten", FieldValue.Bool(true)) }
    expectEqual(wrongKind.fields.map { it.path to it.code }, listOf("ho_ten" to "wrong_type"), "a value of another kind")
    val madeUp = expectThrows<MotcuaException.Validation> { client.setField(draftId, "tep_to_khai", FieldValue.Files(listOf("made-up"))) }
    expectEqual(madeUp.fields.map { it.path }, listOf("tep_to_khai"), "a made-up file id")
    val exe = File(dir, "scan.pdf").apply { writeBytes("MZ not a scan".toByteArray()) }
    val wrongType = expectThrows<MotcuaException.Validation> { client.attachFile(draftId, "tep_to_khai", exe.absolutePath, "scan.pdf") }
    expectEqual(wrongType.fields.map { it.code }, listOf("invalid_file_type"), "a file that is no scan")
    val stray = File(dir, "stray.png").apply { writeBytes(byteArrayOf(0x89.toByte(), 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A) + ByteArray(100)) }
    client.removeFile(draftId, client.attachFile(draftId, "tep_to_khai", stray.absolutePath, "stray.png").id)
    fill(client, draftId)
    attachScans(client, draftId, dir)
    client.setBranch(draftId, BRANCH)
    val item = client.submitDraft(draftId)
    val queued = expectThrows<MotcuaException.Conflict> { client.deleteDraft(draftId) }
    expect(queued.reason == "draft_queued" && queued.userMessage.isNotEmpty()) { "$queued" }
    client.cancelOutboxItem(item.id)
    expectEqual(client.draft(draftId).summary.state, DraftState.EDITING, "after cancel")
    val again = client.submitDraft(draftId)

    transport.inject["/api/v1/dossiers"] = 403
    expectEqual(client.syncOutbox().parked, 1u, "parked items")
    expectEqual(client.outbox().single().parkReason, ParkReason.Forbidden, "park reason")
    client.retryOutboxItem(again.id)
    syncUntilSent(client, 1u)
    val mine = client.refreshDossiers()
    expectEqual(mine.size, 1, "dossiers on the server")
    val withdrawn = client.withdrawDossier(mine.single().id, "Nộp nhầm")
    expectEqual(withdrawn.item.status, DossierStatus.Withdrawn as DossierStatus, "withdrawn dossier")

    val other = client.createDraft(birth.code).summary.id
    client.deleteDraft(other)
    expectEqual(client.listDrafts().size, 1, "drafts left")
    server.stop()
    expectThrows<MotcuaException.Network> { client.refreshNotifications() }
    // One client per data directory; a bad URL or language is refused.
    expectThrows<MotcuaException.StoreInUse> { MotcuaClient.open(config(server, dir), MemoryTokens(), null) }
    val badUrl = config(server, File(dir, "other")).copy(baseUrl = "localhost:8080")
    expect(expectThrows<MotcuaException.Invalid> { MotcuaClient.open(badUrl, MemoryTokens(), null) }.reason.startsWith("base_url")) { "url" }
    val badLanguage = config(server, File(dir, "other")).copy(language = "fr")
    expectThrows<MotcuaException.Invalid> { MotcuaClient.open(badLanguage, MemoryTokens(), null) }
    client.shutdown()
    val closed = expectThrows<MotcuaException.Closed> { client.listDrafts() }
    expect(closed.userMessage.isNotEmpty()) { "closed without a message" }
    // Defaults: language vi, the core's chunk size and timeout; a search of 20 at most.
    val defaults = ClientConfig(server.baseUrl, File(dir, "phone").absolutePath)
    expectEqual(Triple(defaults.language, defaults.uploadChunkSize, defaults.requestTimeoutMs), Triple("vi", 0UL, 0UL), "config defaults")
    val reopened = MotcuaClient.open(defaults, MemoryTokens(), null)
    expectEqual(reopened.searchProcedures("dang ky").size, 20, "default search limit")
    reopened.shutdown()
}

suspend fun pushOnThePhone(server: Server, dir: File) {
    val tokens = MemoryTokens()
    // The core's own token stores, for tools and tests.
    expectEqual(memoryTokenStore().load(), null, "an empty memory store")
    val fileTokens = fileTokenStore(File(dir, "tokens.json").absolutePath)
    fileTokens.save(StoredTokens("a", "r", 1L, 2L))
    expectEqual(fileTokenStore(File(dir, "tokens.json").absolutePath).load()?.refreshToken, "r", "tokens kept in the file")
    val client = MotcuaClient.open(config(server, dir), tokens, null)
    // FCM's token arrives before anyone signs in: kept, then sent at sign-in.
    val kept = client.registerDevice("fcm-kotlin-token-1", "android", "1.0.0")
    expect(!kept.sent && kept.token == "fcm-kotlin-token-1") { "$kept" }
    val pending = client.register("001099012388", "0912000088", "Vũ Văn Hải", "matkhau12345")
    client.verifyPhone(pending.verificationId, server.codeFor("0912000088"))
    expect(client.pushRegistration()?.sent == true) { "not sent at sign-in" }
    val (status, devices) = server.call("GET", "/api/v1/devices", tokens.tokens?.accessToken)
    expect(status == 200 && devices.contains("\"fcm-kotlin-token-1\"")) { devices }
    val bad = expectThrows<MotcuaException.Validation> { client.registerDevice("bad token", "ios", "") }
    expectEqual(bad.fields.map { it.path }.toSet(), setOf("token", "app_version"), "bad registration")

    // A delivered notification opens its dossier; a second delivery shows nothing.
    val data = mapOf("notification_id" to "n-7", "kind" to "dossier", "id" to "d-7")
    val message = client.receivePush(data) ?: throw TestFailure("the first delivery was not shown")
    expectEqual(message.target, PushTarget.Dossier("d-7") as PushTarget, "deep link")
    expectEqual(client.receivePush(data), null, "a duplicate delivery")

    val settings = client.notificationSettings()
    expect(settings.dossierUpdates && settings.reportUpdates) { "$settings" }
    val quiet = client.setNotificationSettings(settings.copy(reportUpdates = false))
    expect(!quiet.reportUpdates) { "$quiet" }
    client.logout()
    expect(client.pushRegistration()?.sent == false) { "still marked sent after logout" }
    client.shutdown()
}

/** A real 32x24 JPEG (made with the `image` crate). */
val SMALL_JPEG: ByteArray = java.util.Base64.getDecoder().decode("/9j/4AAQSkZJRgABAgAAAQABAAD/wAARCAAYACADAREAAhEBAxEB/9sAQwAGBAUGBQQGBgUGBwcGCAoQCgoJCQoUDg8MEBcUGBgXFBYWGh0lHxobIxwWFiAsICMmJykqKRkfLTAtKDAlKCko/9sAQwEHBwcKCAoTCgoTKBoWGigoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgo/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDw200rp8tfZTxJx4XFm1aaV0+WuOeJPpcLizZtNK6fLXFPEn0mFxZtWmldPlrjniT6XC4so2mldPlreeIP5rwuLNm00rp8tcU8SfSYXFm1aaV0+WuOeJPpcLizZtNK6fLXHPEn0uFxZRtNK6fLW08SfzXhcWbVppXT5a454g+kwuLNm00rp8tcc8SfS4XFm1aaV0+WuKeJPpMLiz//2Q==")

/** [SMALL_JPEG] with an APP1 Exif segment carrying GPS tags, as a phone's camera writes it. */
fun photo(dir: File, name: String, seed: Int): String {
    val exif = "Exif\u0000\u0000MM\u0000*\u0000\u0000\u0000\u0008GPSLatitude 21.0287 seed $seed".toByteArray(Charsets.ISO_8859_1)
    val length = exif.size + 2
    val segment = byteArrayOf(0xFF.toByte(), 0xE1.toByte(), (length shr 8).toByte(), (length and 0xFF).toByte()) + exif
    val file = File(dir, name)
    file.writeBytes(SMALL_JPEG.copyOfRange(0, 2) + segment + SMALL_JPEG.copyOfRange(2, SMALL_JPEG.size))
    return file.absolutePath
}

suspend fun fieldReport(server: Server, dir: File) {
    val events = Recorder()
    val client = MotcuaClient.open(config(server, dir), MemoryTokens(), null)
    client.setListener(events)
    val pending = client.register("001099012398", "0912345698", "Lê Thị Cúc", "matkhau12345")
    client.verifyPhone(pending.verificationId, server.codeFor("0912345698"))

    val draft = client.createReportDraft()
    expectEqual(draft.issues.map { it.path }.toSet(), setOf("category", "description", "lat", "lng", "photos"), "empty draft")
    val lake = ReportDraftInput("rac-thai", "Rác thải đổ tràn ra lòng đường.", 21.0287, 105.8524, "Phố Huế", true)
    client.updateReportDraft(draft.id, lake)
    val extra = client.addReportPhoto(draft.id, photo(dir, "a.jpg", 1), "a.jpg")
    client.removeReportPhoto(draft.id, extra.id)
    client.addReportPhoto(draft.id, photo(dir, "b.jpg", 2), "b.jpg")
    client.addReportPhoto(draft.id, photo(dir, "c.jpg", 3), "c.jpg")
    val ready = client.reportDraft(draft.id)
    expect(ready.issues.isEmpty() && ready.photos.size == 2) { "$ready" }
    expectEqual(client.reportDrafts().map { it.id }, listOf(draft.id), "report drafts")

    server.stop()
    val item = client.submitReport(draft.id)
    expectEqual(item.state, OutboxState.PENDING, "queued report")
    expectEqual(client.syncOutbox().sent, 0u, "sent while the server is down")
    server.start()
    syncUntilSent(client, 1u)
    val sent = events.outboxEvents.map { it.stage }.filterIsInstance<OutboxStage.ReportSent>()
    expectEqual(sent.size, 1, "ReportSent events")
    val reportId = sent[0].reportId
    expectEqual(client.reportDraft(draft.id).reportId, reportId, "the draft's report")
    expectEqual(client.myReports().map { it.id }, listOf(reportId), "cached own reports")
    expectEqual(client.refreshMyReports().map { it.wardCode }, listOf("00070"), "routed to Hoàn Kiếm")
    expectEqual(client.followReport(reportId, true).map { it.id }, listOf(reportId), "followed")
    expectEqual(client.refreshFollowedReports().map { it.id }, listOf(reportId), "followed, refreshed")
    expectEqual(client.followedReports().map { it.followed }, listOf(true), "followed, cached")
    val other = client.createReportDraft()
    client.deleteReportDraft(other.id)
    client.shutdown()
}

fun main() {
    val binary = System.getenv("MOTCUA_SERVER_BIN")
        ?: throw TestFailure("MOTCUA_SERVER_BIN is not set: run these tests with `cargo xtask test`")
    val tests: List<Pair<String, suspend (Server, File) -> Unit>> = listOf(
        "citizen files a dossier offline and follows it to received" to ::citizenJourney,
        "app transport carries requests and a parked item is retried" to ::appTransport,
        "push token is sent at sign-in, a notification opens its dossier once" to ::pushOnThePhone,
        "a field report drafted offline with photos is sent once and followed" to ::fieldReport,
    )
    var passed = 0
    var failed = 0
    for ((name, body) in tests) {
        val dir = Files.createTempDirectory("motcua-kotlin-").toFile()
        val server = Server(binary, dir)
        try {
            server.start()
            server.addOfficer()
            runBlocking { body(server, dir) }
            println("ok   $name")
            passed++
        } catch (e: Throwable) {
            println("FAIL $name")
            e.printStackTrace()
            failed++
        } finally {
            server.stop()
            dir.deleteRecursively()
        }
    }
    println("$passed passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}
