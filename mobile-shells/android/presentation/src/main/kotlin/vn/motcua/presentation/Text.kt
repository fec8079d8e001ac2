// What the citizen reads besides the core's own labels: the app's sentences in Vietnamese
// (default) or English, and the formats a Vietnamese reader expects (dd/mm/yyyy in
// Vietnam's time, "15.000 đ", words instead of wire codes). No rule lives here.
package vn.motcua.presentation

import java.time.Instant
import java.time.LocalDate
import java.time.ZoneOffset
import java.time.format.DateTimeFormatter
import vn.motcua.client.*

/** The app's language: the core speaks it too (ClientConfig.language). */
enum class Lang(val code: String) {
    VI("vi"),
    EN("en");

    fun t(vi: String, en: String) = if (this == EN) en else vi
}

private val VIETNAM = ZoneOffset.ofHours(7)
private val DAY = DateTimeFormatter.ofPattern("dd/MM/yyyy")
private val DAY_TIME = DateTimeFormatter.ofPattern("dd/MM/yyyy HH:mm")
private val TIME = DateTimeFormatter.ofPattern("HH:mm")

/** A moment (ms since the epoch) as `dd/mm/yyyy HH:MM`, Vietnam's time. */
fun dateTime(ms: Long): String = DAY_TIME.format(Instant.ofEpochMilli(ms).atOffset(VIETNAM))

/** A moment (ms since the epoch) as `HH:MM`, Vietnam's time. */
fun timeOfDay(ms: Long): String = TIME.format(Instant.ofEpochMilli(ms).atOffset(VIETNAM))

/** A calendar date `YYYY-MM-DD` as `dd/mm/yyyy` (anything else as it is). */
fun day(iso: String): String = runCatching { DAY.format(LocalDate.parse(iso)) }.getOrDefault(iso)

/** What the citizen typed for a date (`d/m/yyyy`, `/`, `-` or `.` between) as `YYYY-MM-DD`, or null. */
fun typedDate(text: String): String? {
    val parts = text.trim().split('/', '-', '.')
    if (parts.size != 3 || parts[2].length != 4) return null
    return runCatching { LocalDate.of(parts[2].toInt(), parts[1].toInt(), parts[0].toInt()).toString() }.getOrNull()
}

/** An amount in đồng: `15.000 đ`, or "Miễn phí" for nothing. */
fun money(lang: Lang, vnd: Long): String {
    if (vnd == 0L) return lang.t("Miễn phí", "Free")
    val digits = Math.abs(vnd).toString().reversed().chunked(3).joinToString(".").reversed()
    return (if (vnd < 0) "-" else "") + "$digits đ"
}

/** A distance as `850 m` or `1,2 km`. */
fun distance(km: Double): String =
    if (km < 1.0) "${Math.round(km * 1000)} m" else String.format(java.util.Locale.ROOT, "%.1f km", km).replace('.', ',')

fun deadlineWords(lang: Lang, deadline: DeadlineState): String = when (deadline) {
    DeadlineState.NotStarted -> lang.t("Chưa tính hạn (chờ tiếp nhận)", "Not started (waiting to be received)")
    DeadlineState.OnTime -> lang.t("Trong hạn", "On time")
    DeadlineState.AtRisk -> lang.t("Sắp đến hạn", "Due soon")
    DeadlineState.Overdue -> lang.t("Quá hạn", "Overdue")
    DeadlineState.Paused -> lang.t("Tạm dừng tính hạn", "Paused")
    is DeadlineState.Unknown -> deadline.code
}

fun actionWords(lang: Lang, action: TimelineAction): String = when (action) {
    TimelineAction.Submit -> lang.t("Nộp hồ sơ", "Filed")
    TimelineAction.Receive -> lang.t("Tiếp nhận hồ sơ", "Received")
    TimelineAction.StartProcessing -> lang.t("Bắt đầu xử lý", "Processing started")
    TimelineAction.RequestSupplement -> lang.t("Yêu cầu bổ sung", "Supplement requested")
    TimelineAction.AnswerSupplement -> lang.t("Đã bổ sung hồ sơ", "Supplement answered")
    TimelineAction.Approve -> lang.t("Phê duyệt", "Approved")
    TimelineAction.Reject -> lang.t("Từ chối", "Rejected")
    TimelineAction.ReturnResult -> lang.t("Trả kết quả", "Result returned")
    TimelineAction.Withdraw -> lang.t("Rút hồ sơ", "Withdrawn")
    TimelineAction.Forward -> lang.t("Chuyển cơ quan chuyên môn", "Forwarded to the agency")
    TimelineAction.AgencyApprove -> lang.t("Cơ quan chuyên môn đồng ý", "Agency approved")
    TimelineAction.AgencyRefuse -> lang.t("Cơ quan chuyên môn từ chối", "Agency refused")
    TimelineAction.AgencyRequestSupplement -> lang.t("Cơ quan chuyên môn yêu cầu bổ sung", "Agency asked for a supplement")
    TimelineAction.Assign -> lang.t("Phân công cán bộ", "Assigned to an officer")
    TimelineAction.Rate -> lang.t("Đánh giá", "Rated")
    is TimelineAction.Unknown -> action.code
}

/** Why the outbox stopped on an item, and what to do. */
fun parkWords(lang: Lang, reason: ParkReason): String = when (reason) {
    ParkReason.Validation -> lang.t("thông tin chưa hợp lệ, hãy sửa bản nháp", "some values were refused: edit the draft")
    ParkReason.Conflict -> lang.t("trùng lần gửi trước", "it clashes with an earlier sending")
    ParkReason.Forbidden -> lang.t("tài khoản không được nộp thủ tục này", "this account may not file this")
    ParkReason.ProcedureUnavailable -> lang.t("thủ tục không còn được tiếp nhận", "the procedure is no longer accepted")
    is ParkReason.Other -> lang.t("máy chủ từ chối", "refused by the server") + " (${reason.code})"
}

fun draftStateWords(lang: Lang, state: DraftState): String = when (state) {
    DraftState.EDITING -> lang.t("Đang soạn", "Editing")
    DraftState.QUEUED -> lang.t("Chờ gửi", "Waiting to be sent")
    DraftState.PARKED -> lang.t("Cần xử lý", "Needs attention")
    DraftState.SENT -> lang.t("Đã gửi", "Sent")
}

/** The core's sentence for the citizen (in the client's language) of any of its errors. */
fun userMessage(e: MotcuaException): String = when (e) {
    is MotcuaException.Validation -> e.userMessage
    is MotcuaException.Network -> e.userMessage
    is MotcuaException.Throttled -> e.userMessage
    is MotcuaException.WrongCredentials -> e.userMessage
    is MotcuaException.SignedOut -> e.userMessage
    is MotcuaException.Conflict -> e.userMessage
    is MotcuaException.NotFound -> e.userMessage
    is MotcuaException.FileNotFound -> e.userMessage
    is MotcuaException.Invalid -> e.userMessage
    is MotcuaException.Closed -> e.userMessage
    is MotcuaException.StoreInUse -> e.userMessage
    is MotcuaException.Other -> e.userMessage
}

/** A status reached (the timeline's); the current one comes labelled by the core. */
fun statusWords(lang: Lang, status: DossierStatus): String = when (status) {
    DossierStatus.Submitted -> lang.t("Đã nộp", "Submitted")
    DossierStatus.Received -> lang.t("Đã tiếp nhận", "Received")
    DossierStatus.InProcessing -> lang.t("Đang xử lý", "In processing")
    DossierStatus.AtAgency -> lang.t("Đang xử lý tại cơ quan có thẩm quyền", "At the competent agency")
    DossierStatus.SupplementRequested -> lang.t("Yêu cầu bổ sung", "Supplement requested")
    DossierStatus.Approved -> lang.t("Đã phê duyệt", "Approved")
    DossierStatus.Rejected -> lang.t("Từ chối", "Rejected")
    DossierStatus.ResultReturned -> lang.t("Đã trả kết quả", "Result returned")
    DossierStatus.Withdrawn -> lang.t("Đã rút hồ sơ", "Withdrawn")
    is DossierStatus.Unknown -> status.code
}
