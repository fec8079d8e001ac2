// My dossiers and one dossier's page: status in the core's words, due date dd/mm/yyyy,
// the timeline, the officer's supplement request and its answer (a draft edited on the form
// screen, sent through the outbox), downloading the result document, rating a returned
// result, withdrawing.
package vn.motcua.presentation

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import vn.motcua.client.*

data class DossierRow(val id: String, val code: String, val procedure: String, val status: String, val due: String?, val deadline: String)

data class DossiersState(val rows: List<DossierRow> = emptyList(), val offline: Boolean = false, val message: String? = null)

private fun rowOf(lang: Lang, d: DossierItem) =
    DossierRow(d.id, d.code, d.procedureName, d.statusLabel, d.dueDate?.let(::day), deadlineWords(lang, d.deadline))

class DossiersScreen(private val session: Session) {
    private val _state = MutableStateFlow(DossiersState())
    val state: StateFlow<DossiersState> = _state
    private val c = session.client

    /** From the server when it answers, else the phone's copy (marked offline). */
    suspend fun refresh() {
        var failure: String? = null
        val fresh = attempt({ m, _ -> failure = m }) { c.refreshDossiers() }
        val list = fresh ?: attempt({ m, _ -> failure = m }) { c.dossiers() }.orEmpty()
        _state.value = DossiersState(list.map { rowOf(session.lang, it) }, fresh == null, failure)
    }
}

data class TimelineLine(val at: String, val what: String, val status: String, val note: String?)

data class DossierState(
    val row: DossierRow? = null,
    val timeline: List<TimelineLine> = emptyList(),
    /** The officer's note when a supplement is asked for: the screen offers to answer it. */
    val supplementNote: String? = null,
    val canRate: Boolean = false,
    val rating: Int? = null,
    val ratingComment: String? = null,
    val receipt: String? = null,
    val message: String? = null,
    /** The result document once downloaded (the view saves it through the platform). */
    val result: ResultFile? = null,
    /** Why the result document cannot be downloaded (none attached, not returned yet, offline). */
    val resultUnavailable: String? = null,
)

class DossierScreen(private val session: Session) {
    private val _state = MutableStateFlow(DossierState())
    val state: StateFlow<DossierState> = _state
    private val lang = session.lang
    private val c = session.client
    private var id: String? = null

    private fun failed(message: String, @Suppress("UNUSED_PARAMETER") fields: Map<String, String>) {
        _state.value = _state.value.copy(message = message)
    }

    private fun show(d: DossierDetail, message: String? = null) {
        val kept = _state.value.takeIf { it.row?.id == d.item.id }
        _state.value = DossierState(
            row = rowOf(lang, d.item),
            timeline = d.timeline.map { t -> TimelineLine(dateTime(t.atMs), actionWords(lang, t.action), statusWords(lang, t.toStatus), t.note) },
            supplementNote = d.supplementRequest?.note,
            canRate = d.item.status == DossierStatus.ResultReturned && d.ratingScore == null,
            rating = d.ratingScore?.toInt(),
            ratingComment = d.ratingComment,
            receipt = d.trackingVerifier?.let { "${d.item.code} / $it" },
            message = message,
            result = kept?.result,
            resultUnavailable = kept?.resultUnavailable,
        )
    }

    suspend fun open(dossierId: String) {
        id = dossierId
        show(attempt(::failed) { c.dossier(dossierId) } ?: return)
    }

    /** "Bổ sung": the answer as a draft (the dossier's values, editable offline); returns its
     *  id for the form screen, whose submit sends it through the outbox once. */
    suspend fun answerSupplement(note: String?): String? {
        val dossierId = id ?: return null
        return attempt(::failed) { c.startSupplementAnswer(dossierId, note) }?.summary?.id
    }

    /** 1 to 5 stars; offline the rating is queued and sent by the next sync. */
    suspend fun rate(score: Int, comment: String?) {
        val dossierId = id ?: return
        var refused = false
        val rated = attempt({ m, f -> refused = true; failed(m, f) }) { c.rateDossier(dossierId, score.toUInt(), comment?.ifBlank { null }) }
        if (refused) return
        if (rated != null) show(rated) else _state.value = _state.value.copy(
            canRate = false,
            message = lang.t("Đánh giá sẽ được gửi khi có mạng.", "The rating will be sent when online."),
        )
    }

    /** "Tải kết quả": the result document (online), or the sentence saying why not. */
    suspend fun downloadResult() {
        val dossierId = id ?: return
        val file = try {
            c.downloadResult(dossierId)
        } catch (e: MotcuaException) {
            val why = when {
                e is MotcuaException.NotFound ->
                    lang.t("Hồ sơ này chưa có văn bản kết quả.", "This dossier has no result document yet.")
                e is MotcuaException.Conflict && e.reason == "not_returned_yet" -> lang.t(
                    "Kết quả chưa được trả: tải được sau khi cơ quan trả kết quả.",
                    "The result is not returned yet: it can be downloaded once it is.",
                )
                else -> userMessage(e)
            }
            _state.value = _state.value.copy(result = null, resultUnavailable = why)
            return
        }
        _state.value = _state.value.copy(result = file, resultUnavailable = null)
    }

    suspend fun withdraw(note: String?) {
        val dossierId = id ?: return
        show(attempt(::failed) { c.withdrawDossier(dossierId, note) } ?: return)
    }
}
