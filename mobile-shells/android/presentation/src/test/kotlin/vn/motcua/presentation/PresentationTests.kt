// JVM tests of the Android presentation layer: its formats and JSON reader, then a citizen's
// whole journey driven only through the screens' actions and read only from their states,
// against a live motcua-server (the binary named by MOTCUA_SERVER_BIN) and the generated
// bindings, on SQLite and on PostgreSQL (a fresh database of the cluster named by
// MOTCUA_TEST_DATABASE_URL per test, made and dropped with psql). A plain main() runner: one line per test, "N passed, N failed", and a
// non-zero exit on failure (run by `cargo xtask test` and `cargo xtask bindings --presentation`).
package vn.motcua.presentation

import java.io.File
import java.net.ServerSocket
import java.net.URI
import java.nio.file.Files
import java.time.Duration
import java.time.LocalDate
import java.util.concurrent.TimeUnit
import kotlin.random.Random
import kotlin.system.exitProcess
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

/** A fresh database for one test: a SQLite file, or a PostgreSQL database made with psql. */
class Database(private val adminUrl: String?, dir: File) {
    private val name = "motcua_presentation_" + java.util.UUID.randomUUID().toString().replace("-", "")
    val url: String = if (adminUrl == null) "sqlite://${dir.absolutePath}/s.db" else adminUrl.substringBeforeLast('/') + "/" + name

    private fun psql(sql: String) {
        val done = ProcessBuilder("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", adminUrl, "-c", sql)
            .redirectErrorStream(true).start()
        val said = done.inputStream.bufferedReader().readText()
        expectEqual(done.waitFor(), 0, "psql $sql ($said)")
    }

    fun create() {
        if (adminUrl != null) psql("CREATE DATABASE $name")
    }

    fun drop() {
        if (adminUrl != null) runCatching { psql("DROP DATABASE IF EXISTS $name WITH (FORCE)") }
    }
}

/** One motcua-server process over one database; stop() and start() keep both. */
class Server(private val binary: String, private val dir: File, databaseUrl: String) {
    private val port = ServerSocket(0).use { it.localPort }
    val baseUrl = "http://127.0.0.1:$port"
    private var process: Process? = null
    private val http = java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()
    private val env = mapOf(
        "MOTCUA_ADDR" to "127.0.0.1:$port",
        "DATABASE_URL" to databaseUrl,
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
            expect(started.isAlive) { "motcua-server exited: see $dir/server.log" }
            if (runCatching { call("GET", "/healthz").first == 200 }.getOrDefault(false)) return
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
        val added = command("user", "add", "--role", "officer", "--branch", BRANCH, "--phone", OFFICER_PHONE, "--name", "Cán bộ")
            .redirectInput(ProcessBuilder.Redirect.PIPE).start()
        added.outputStream.use { it.write("$OFFICER_PASSWORD\n".toByteArray()) }
        expectEqual(added.waitFor(), 0, "motcua-server user add")
    }

    fun codeFor(phone: String): String {
        val text = File(dir, "sms/$phone.txt").readText()
        return Regex("\\b\\d{6}\\b").find(text)?.value ?: throw TestFailure("no code in the SMS: $text")
    }

    fun call(method: String, path: String, token: String? = null, json: String? = null): Pair<Int, String> {
        val request = java.net.http.HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(10))
        request.method(method, if (json == null) java.net.http.HttpRequest.BodyPublishers.noBody() else java.net.http.HttpRequest.BodyPublishers.ofString(json))
        if (json != null) request.header("Content-Type", "application/json")
        if (token != null) request.header("Authorization", "Bearer $token")
        val response = http.send(request.build(), java.net.http.HttpResponse.BodyHandlers.ofString())
        return response.statusCode() to response.body()
    }

    fun officerToken(): String {
        val (status, body) = call("POST", "/api/v1/auth/login", json = """{"login":"$OFFICER_PHONE","password":"$OFFICER_PASSWORD"}""")
        expectEqual(status, 200, "officer login ($body)")
        return Regex("\"access_token\"\\s*:\\s*\"([^\"]+)\"").find(body)?.groupValues?.get(1) ?: throw TestFailure("no access_token in $body")
    }

    /** The officer uploads [bytes] as [name] and attaches it as the dossier's result document. */
    fun attachResult(dossierId: String, name: String, bytes: ByteArray) {
        val token = officerToken()
        val query = java.net.URLEncoder.encode(name, Charsets.UTF_8).replace("+", "%20")
        val upload = java.net.http.HttpRequest.newBuilder(URI.create("$baseUrl/api/v1/attachments?name=$query"))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/octet-stream")
            .header("Authorization", "Bearer $token")
            .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(bytes))
            .build()
        val stored = http.send(upload, java.net.http.HttpResponse.BodyHandlers.ofString())
        expectEqual(stored.statusCode(), 201, "result upload (${stored.body()})")
        val attachmentId = Regex("\"id\"\\s*:\\s*\"([^\"]+)\"").find(stored.body())?.groupValues?.get(1)
            ?: throw TestFailure("no id in ${stored.body()}")
        val (status, answer) = call("POST", "/api/v1/dossiers/$dossierId/result", token, """{"attachment_id":"$attachmentId"}""")
        expectEqual(status, 200, "attach the result ($answer)")
    }

    fun officerDoes(dossierId: String, action: String, note: String? = null) {
        val body = if (note == null) """{"action":"$action"}""" else """{"action":"$action","note":"$note"}"""
        val (status, answer) = call("POST", "/api/v1/dossiers/$dossierId/transitions", officerToken(), body)
        expectEqual(status, 200, "$action ($answer)")
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

/** The app's own HTTP stack (java.net.http) that can refuse the next POST to a path, as a server would. */
class RefusingTransport : Transport {
    private val http = java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()
    private val refuse = java.util.concurrent.ConcurrentHashMap<String, Int>()
    private val restricted = setOf("connection", "content-length", "host", "expect", "upgrade")

    fun refuseNext(pathEnd: String, status: Int) {
        refuse[pathEnd] = status
    }

    override fun send(request: HttpRequest): HttpResponse {
        val path = URI.create(request.url).path
        for ((end, status) in refuse) {
            if (request.method == "POST" && path.endsWith(end) && refuse.remove(end) != null) {
                val body = """{"error":{"code":"forbidden","message":"refused"}}""".toByteArray()
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

fun formats() {
    expectEqual(day("2026-01-05"), "05/01/2026", "a due date")
    expectEqual(day("soon"), "soon", "not a date")
    expectEqual(typedDate("5/1/2026"), "2026-01-05", "a typed date")
    expectEqual(typedDate("05.01.2026"), "2026-01-05", "dots")
    expectEqual(typedDate("31/02/2026"), null, "no 31 February")
    expectEqual(typedDate("5/1/26"), null, "a two-digit year")
    expectEqual(dateTime(0), "01/01/1970 07:00", "Vietnam's time")
    expectEqual(money(Lang.VI, 1_234_567), "1.234.567 đ", "money")
    expectEqual(money(Lang.VI, 20_000), "20.000 đ", "money")
    expectEqual(money(Lang.VI, 0), "Miễn phí", "free")
    expectEqual(money(Lang.EN, 0), "Free", "free in English")
    expectEqual(distance(0.85), "850 m", "short distance")
    expectEqual(distance(1.234), "1,2 km", "distance")
    expectEqual(deadlineWords(Lang.VI, DeadlineState.Overdue), "Quá hạn", "overdue")
    expectEqual(actionWords(Lang.EN, TimelineAction.Unknown("teleport")), "teleport", "a newer server's action")
    expectEqual(parkWords(Lang.VI, ParkReason.Other("gone")), "máy chủ từ chối (gone)", "park reason")
}

fun json() {
    val doc = parseJson("""{"a":[1,2.5,-3e2],"b":{"c":"x\"y\u00e1\n"},"t":true,"f":false,"n":null,"e":[],"o":{}}""") as Map<*, *>
    expectEqual(doc["a"], listOf(1.0, 2.5, -300.0), "numbers")
    expectEqual((doc["b"] as Map<*, *>)["c"], "x\"yá\n", "escapes")
    expectEqual(listOf(doc["t"], doc["f"], doc["n"], doc["e"], doc["o"]), listOf(true, false, null, emptyList<Any>(), emptyMap<String, Any>()), "words")
    for (bad in listOf("", "{", "[1,]", "{\"a\" 1}", "tru", "1 2", "\"open", "[".repeat(100))) {
        val failed = runCatching { parseJson(bad) }.exceptionOrNull()
        expect(failed is JsonError) { "'$bad' was read: $failed" }
    }
}

fun scan(dir: File, name: String): File = File(dir, name).apply {
    writeBytes(byteArrayOf(0x89.toByte(), 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A) + Random.nextBytes(20_000))
}

/** Fills the birth registration form the way a citizen does: through the screen's actions. */
suspend fun fillBirthForm(form: FormScreen, dir: File) {
    val tenDays = LocalDate.now().minusDays(10)
    for ((key, text) in listOf(
        "ho_ten" to "Nguyễn Văn An", "so_cccd" to "001099012345", "dien_thoai" to "0912345678",
        "tre_ho_ten" to "Nguyễn Minh Khôi", "ten_co_so_y_te" to "Bệnh viện Phụ sản Hà Nội",
        "tre_ngay_sinh" to "%02d/%02d/%d".format(tenDays.dayOfMonth, tenDays.monthValue, tenDays.year),
        "me_ho_ten" to "Trần Thị Bình", "me_so_cccd" to "001195012346", "me_ngay_sinh" to "20/05/1995",
    )) {
        if (key == "ten_co_so_y_te") form.choose("noi_sinh_loai", "co_so_y_te")
        form.type(key, text)
    }
    for ((key, option) in listOf("nguoi_nop" to "ban_than", "quan_he" to "cha", "tre_gioi_tinh" to "nam", "tre_dan_toc" to "kinh", "hinh_thuc_nhan" to "truc_tiep")) {
        form.choose(key, option)
    }
    form.setAddress("noi_cu_tru", "Hà Nội", "Phường Hoàn Kiếm", "12 Hàng Bài")
    form.setAddress("noi_sinh", "Hà Nội", "Phường Đống Đa", null)
    form.check("cam_doan", true)
    for (key in listOf("tep_to_khai", "tep_giay_chung_sinh")) form.attach(key, scan(dir, "$key.png").absolutePath, "$key.png")
    form.setBranch(BRANCH)
}

fun FormState.row(key: String): FieldRow? = rows.firstOrNull { it.key == key }

suspend fun journey(server: Server, dir: File) {
    val tokens = MemoryTokens()
    val client = MotcuaClient.open(ClientConfig(server.baseUrl, File(dir, "phone").absolutePath, "vi", 16UL * 1024UL, 5000UL), tokens, null)
    val session = Session(client, Lang.VI)

    // Register: a bad citizen ID is named; the SMS code; a wrong code is named too.
    val auth = AuthScreen(session)
    auth.register("12345", "0912345678", "Nguyễn Văn An", "matkhau12345")
    expect(auth.state.value.awaitingCode == null && auth.state.value.fieldErrors.keys.any { "citizen" in it }) { "${auth.state.value}" }
    auth.register("001099012345", "0912345678", "Nguyễn Văn An", "matkhau12345")
    expectEqual(auth.state.value.phone, "0912345678", "where the code went")
    val code = server.codeFor("0912345678")
    auth.verify(if (code == "000000") "111111" else "000000")
    expect("code" in auth.state.value.fieldErrors && !session.signedIn.value) { "${auth.state.value}" }
    auth.verify(code)
    expect(session.signedIn.value && auth.state.value.userName == "Nguyễn Văn An" && tokens.tokens != null) { "${auth.state.value}" }

    // Catalogue, searched without diacritics; a procedure's page.
    val catalogue = CatalogueScreen(session)
    catalogue.sync()
    catalogue.search("dang ky khai sinh")
    val birth = catalogue.state.value.rows.first()
    expectEqual(birth.name, "Đăng ký khai sinh", "first hit")
    expect(!catalogue.state.value.nearestOnly && birth.fee.isNotEmpty() && birth.days.isNotEmpty()) { "$birth" }
    catalogue.search("xyzzy")
    expect(catalogue.state.value.nearestOnly) { "no empty page: the nearest instead" }
    val page = ProcedureScreen(session)
    page.open("1.004222")
    expectEqual(page.state.value.fee to page.state.value.onlineFee, "20.000 đ" to "10.000 đ", "counter and online fee")
    page.open(birth.code)
    expect(page.state.value.papers.isNotEmpty() && page.state.value.papers.all { it.name.isNotEmpty() && it.count >= 1 }) { "${page.state.value}" }
    expect(page.state.value.time.isNotEmpty() && page.state.value.onlineLevel.startsWith("Dịch vụ công")) { "${page.state.value}" }

    // Service points, cached; then offline until the server is back.
    val points = ServicePointsScreen(session)
    points.sync()
    server.stop()
    points.near(21.0285, 105.8542, birth.code)
    val near = points.state.value.rows
    expect(near.isNotEmpty() && near.any { it.code == BRANCH } && near.all { it.distance != null }) { "$near" }

    // The form, offline: live validation, a field that appears with its condition, autosave.
    val draftId = page.startDraft() ?: throw TestFailure("no draft: ${page.state.value.message}")
    val form = FormScreen(session)
    form.open(draftId)
    expect(form.state.value.editable && form.state.value.title == "Đăng ký khai sinh") { "${form.state.value}" }
    expectEqual(form.state.value.row("ten_co_so_y_te"), null, "a conditional field before its condition")
    form.type("ho_ten", "A")
    form.type("so_cccd", "12345")
    expect(form.state.value.row("ho_ten")!!.errors.isNotEmpty() && form.state.value.row("so_cccd")!!.errors.isNotEmpty()) { "${form.state.value.rows}" }
    form.submit()
    expect(form.state.value.queuedItem == null && form.state.value.message != null) { "submitted with errors: ${form.state.value}" }
    fillBirthForm(form, dir)
    val filled = form.state.value
    expect(filled.row("ten_co_so_y_te") != null && filled.row("tre_ngay_sinh")!!.text.matches(Regex("\\d{2}/\\d{2}/\\d{4}"))) { "${filled.rows}" }
    expectEqual(filled.problems, 0, "problems left (${filled.rows.filter { it.errors.isNotEmpty() }})")
    expectEqual(filled.row("tep_to_khai")!!.files.size, 1, "attached")
    // Autosaved: a new screen over the same draft shows the values.
    val again = FormScreen(session).apply { open(draftId) }
    expectEqual(again.state.value.row("ho_ten")!!.text, "Nguyễn Văn An", "saved value")
    form.submit()
    val itemId = form.state.value.queuedItem ?: throw TestFailure("not queued: ${form.state.value.message}")
    expect(!form.state.value.editable) { "still editable once queued" }

    // The outbox: waiting, then waiting for the network; the connectivity callback sends it.
    val outbox = OutboxScreen(session)
    outbox.load()
    expectEqual(outbox.state.value.rows.single().phase, ItemPhase.WAITING, "before a try")
    outbox.sendNow()
    val waiting = outbox.state.value.rows.single()
    expect(waiting.phase == ItemPhase.WAITING_FOR_NETWORK && waiting.words.startsWith("Chờ có mạng") && waiting.title == "Đăng ký khai sinh") { "$waiting" }
    server.start()
    expectEqual(session.networkBack()?.sent, 1u, "sent when the network is back")
    expect(session.notice.value?.startsWith("Đã nộp hồ sơ ") == true) { "${session.notice.value}" }
    outbox.load()
    expectEqual(outbox.state.value.rows.map { it.id to it.phase }, listOf(itemId to ItemPhase.SENT), "sent")
    val drafts = DraftsScreen(session).apply { load() }
    expectEqual(drafts.state.value.rows.map { it.state }, listOf("Đã gửi"), "drafts")

    // My dossiers; the officer receives and starts it: status in words, due date, timeline.
    val dossiers = DossiersScreen(session)
    dossiers.refresh()
    val dossierId = dossiers.state.value.rows.single().id
    server.officerDoes(dossierId, "receive")
    server.officerDoes(dossierId, "start_processing")
    dossiers.refresh()
    val row = dossiers.state.value.rows.single()
    expect(row.status == "Đang xử lý" && row.due!!.matches(Regex("\\d{2}/\\d{2}/\\d{4}")) && !dossiers.state.value.offline) { "$row" }
    expectEqual(session.notice.value, "Hồ sơ ${row.code}: Đang xử lý", "the status change's notice")
    val dossier = DossierScreen(session)
    dossier.open(dossierId)
    expect(dossier.state.value.timeline.map { it.what }.containsAll(listOf("Tiếp nhận hồ sơ", "Bắt đầu xử lý"))) { "${dossier.state.value.timeline}" }
    expect(dossier.state.value.supplementNote == null && !dossier.state.value.canRate) { "${dossier.state.value}" }

    // A supplement: the officer's note shown; answered on the form screen, sent once.
    server.officerDoes(dossierId, "request_supplement", "Bổ sung bản sao giấy chứng sinh")
    dossier.open(dossierId)
    expectEqual(dossier.state.value.supplementNote, "Bổ sung bản sao giấy chứng sinh", "the officer's note")
    val answerId = dossier.answerSupplement("Đã bổ sung") ?: throw TestFailure("no answer: ${dossier.state.value.message}")
    val answer = FormScreen(session).apply { open(answerId) }
    expectEqual(answer.state.value.row("tre_ho_ten")!!.text, "Nguyễn Minh Khôi", "the dossier's value")
    answer.type("tre_ho_ten", "Nguyễn Minh Khang")
    answer.attach("tep_giay_chung_sinh", scan(dir, "ban-sao.png").absolutePath, "ban-sao.png")
    answer.submit()
    expect(answer.state.value.queuedItem != null) { "${answer.state.value}" }
    expectEqual(outbox.sendNow()?.sent, 1u, "the answer sent")
    dossier.open(dossierId)
    expect(dossier.state.value.supplementNote == null && "Đã bổ sung hồ sơ" in dossier.state.value.timeline.map { it.what }) { "${dossier.state.value}" }

    // Approved: no result document yet; the officer attaches the signed decision, which the
    // citizen downloads once the result is returned; then rates it once.
    server.officerDoes(dossierId, "approve")
    dossier.open(dossierId)
    dossier.downloadResult()
    expect(dossier.state.value.result == null) { "${dossier.state.value}" }
    expectEqual(dossier.state.value.resultUnavailable, "Hồ sơ này chưa có văn bản kết quả.", "no result document")
    val decision = "%PDF-1.7\n% Giay khai sinh ban chinh\n%%EOF\n".toByteArray()
    server.attachResult(dossierId, "Giấy khai sinh.pdf", decision)
    dossier.downloadResult()
    expect(dossier.state.value.result == null) { "${dossier.state.value}" }
    expectEqual(
        dossier.state.value.resultUnavailable,
        "Kết quả chưa được trả: tải được sau khi cơ quan trả kết quả.",
        "downloaded before it is returned",
    )
    server.officerDoes(dossierId, "return_result")
    dossier.open(dossierId)
    expect(dossier.state.value.canRate) { "${dossier.state.value}" }
    dossier.downloadResult()
    val result = dossier.state.value.result ?: throw TestFailure("no result: ${dossier.state.value}")
    expectEqual(result.fileName to result.contentType, "Giấy khai sinh.pdf" to "application/pdf", "the result file")
    expectEqual(result.bytes.toList(), decision.toList(), "the result's bytes")
    expectEqual(dossier.state.value.resultUnavailable, null, "no reason left once downloaded")
    dossier.rate(5, "Nhanh gọn")
    expect(dossier.state.value.rating == 5 && !dossier.state.value.canRate) { "${dossier.state.value}" }
    expect(dossier.state.value.result?.bytes?.contentEquals(decision) == true) { "the result kept after rating" }
    dossier.rate(4, null)
    expect(dossier.state.value.message != null && dossier.state.value.rating == 5) { "rated twice: ${dossier.state.value}" }

    // Notifications open their dossier; a push message too, once.
    val notes = NotificationsScreen(session)
    notes.refresh()
    val unread = notes.state.value.unread
    val note = notes.state.value.rows.first { it.dossierId == dossierId && !it.read }
    expectEqual(notes.open(note.id), dossierId, "the dossier a notification opens")
    expectEqual(notes.state.value.unread, unread - 1, "unread after opening one")
    notes.refresh()
    expect(notes.state.value.rows.single { it.id == note.id }.read) { "read on the server" }
    val push = mapOf("notification_id" to note.id + "-push", "kind" to "dossier", "id" to dossierId)
    expectEqual(session.pushOpens(push), dossierId, "a push message opens its dossier")
    expectEqual(session.pushOpens(push), null, "a second delivery opens nothing")

    // Sign out, a refused password, sign in again.
    auth.signOut()
    expect(!session.signedIn.value) { "still signed in" }
    auth.signIn("0912345678", "sai-mat-khau-1")
    expect(auth.state.value.message?.contains("không đúng") == true && !session.signedIn.value) { "${auth.state.value}" }
    auth.signIn("0912345678", "matkhau12345")
    expect(session.signedIn.value && auth.state.value.userName == "Nguyễn Văn An") { "${auth.state.value}" }
    client.shutdown()
}

/** An English session: the form refused with its problems shown, drafts, an outbox item taken
 *  back, one the server refuses (needs attention, and why) then retried, the offline dossier list. */
suspend fun englishSession(server: Server, dir: File) {
    val transport = RefusingTransport()
    val client = MotcuaClient.open(ClientConfig(server.baseUrl, File(dir, "phone").absolutePath, "en", 0UL, 5000UL), MemoryTokens(), transport)
    val session = Session(client, Lang.EN)
    val auth = AuthScreen(session)
    auth.register("079305000001", "0912000001", "Lê Thị Cúc", "matkhau12345")
    auth.verify(server.codeFor("0912000001"))
    CatalogueScreen(session).sync()
    val page = ProcedureScreen(session).apply { open("1.004222") }
    expectEqual(page.state.value.onlineFee, "10.000 đ", "fee")
    val form = FormScreen(session).apply { open(page.startDraft()!!) }
    form.submit()
    expect(form.state.value.queuedItem == null && form.state.value.rows.any { it.errors.isNotEmpty() }) { "${form.state.value}" }
    // A draft can be dropped from the list.
    val drafts = DraftsScreen(session).apply { load() }
    expectEqual(drafts.state.value.rows.map { it.state }, listOf("Editing"), "English draft state")
    drafts.delete(drafts.state.value.rows.single().id)
    expectEqual(drafts.state.value.rows, emptyList(), "after delete")

    // A filled form queued, taken back (editable again), queued again.
    val birth = CatalogueScreen(session).apply { search("khai sinh") }.state.value.rows.first()
    page.open(birth.code)
    val draftId = page.startDraft()!!
    val filled = FormScreen(session).apply { open(draftId) }
    fillBirthForm(filled, dir)
    filled.submit()
    val outbox = OutboxScreen(session).apply { load() }
    val first = outbox.state.value.rows.single()
    expect(first.phase == ItemPhase.WAITING && first.words == "Waiting to be sent" && first.canCancel && !first.canRetry) { "$first" }
    outbox.cancel(first.id)
    expectEqual(outbox.state.value.rows, emptyList(), "the outbox after taking it back")
    filled.open(draftId)
    expect(filled.state.value.editable) { "not editable after taking it back" }
    filled.submit()
    // The server refuses it: needs attention, and why; retried, it is sent.
    transport.refuseNext("/api/v1/dossiers", 403)
    outbox.sendNow()
    val parked = outbox.state.value.rows.single()
    expect(parked.phase == ItemPhase.NEEDS_ATTENTION && parked.words == "Needs attention: this account may not file this" && parked.canRetry) { "$parked" }
    expectEqual(DraftsScreen(session).apply { load() }.state.value.rows.map { it.state }, listOf("Needs attention"), "the parked draft")
    outbox.retry(parked.id)
    expectEqual(outbox.sendNow()?.sent, 1u, "sent once retried")
    expectEqual(outbox.state.value.rows.map { it.phase to it.words }, listOf(ItemPhase.SENT to "Sent"), "after the retry")

    // Online the list comes from the server; offline from the phone's copy, and it says so.
    val dossiers = DossiersScreen(session).apply { refresh() }
    expect(!dossiers.state.value.offline && dossiers.state.value.rows.single().status == "Submitted") { "${dossiers.state.value}" }
    server.stop()
    dossiers.refresh()
    expect(dossiers.state.value.offline && dossiers.state.value.message != null && dossiers.state.value.rows.size == 1) { "${dossiers.state.value}" }
    client.shutdown()
}

fun main() {
    val binary = System.getenv("MOTCUA_SERVER_BIN")
    val unit: List<Pair<String, () -> Unit>> = listOf("formats a Vietnamese reader expects" to ::formats, "the JSON reader" to ::json)
    val live: List<Pair<String, suspend (Server, File) -> Unit>> = listOf(
        "a citizen's whole journey through the screens" to ::journey,
        "an English session: refused form, drafts, outbox states and reasons, offline dossiers" to ::englishSession,
    )
    var passed = 0
    var failed = 0
    fun report(name: String, outcome: Result<Unit>) {
        outcome.onSuccess { println("ok   $name"); passed++ }.onFailure { println("FAIL $name"); it.printStackTrace(); failed++ }
    }
    for ((name, body) in unit) report(name, runCatching { body() })
    val postgres = System.getenv("MOTCUA_TEST_DATABASE_URL")?.ifEmpty { null }
    if (binary == null || postgres == null) {
        println("FAIL MOTCUA_SERVER_BIN or MOTCUA_TEST_DATABASE_URL is not set: run these tests with `cargo xtask test`")
        failed++
    } else for ((backend, admin) in listOf("SQLite" to null, "PostgreSQL" to postgres)) for ((name, body) in live) {
        val dir = Files.createTempDirectory("motcua-presentation-").toFile()
        val database = Database(admin, dir)
        val server = Server(binary, dir, database.url)
        report("$name ($backend)", runCatching {
            database.create()
            server.start()
            server.addOfficer()
            runBlocking { body(server, dir) }
        })
        server.stop()
        database.drop()
        dir.deleteRecursively()
    }
    println("$passed passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}
