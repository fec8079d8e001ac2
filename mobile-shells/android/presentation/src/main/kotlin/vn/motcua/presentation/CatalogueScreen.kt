// The catalogue search screen and a procedure's page: offline search (with or without
// diacritics), and the page's fee, legal time and papers, from the core's cached catalogue.
package vn.motcua.presentation

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import vn.motcua.client.*

data class ProcedureRow(val code: String, val name: String, val fee: String, val days: String, val nearest: Boolean)

data class CatalogueState(
    val query: String = "",
    val rows: List<ProcedureRow> = emptyList(),
    /** Nothing matched: the rows are the nearest procedures instead. */
    val nearestOnly: Boolean = false,
    val message: String? = null,
)

fun processingDays(lang: Lang, days: UInt): String =
    if (days == 0u) lang.t("Trong ngày", "Same day") else lang.t("$days ngày làm việc", "$days working days")

class CatalogueScreen(private val session: Session) {
    private val _state = MutableStateFlow(CatalogueState())
    val state: StateFlow<CatalogueState> = _state
    private val lang = session.lang

    private fun failed(message: String, @Suppress("UNUSED_PARAMETER") fields: Map<String, String>) {
        _state.value = _state.value.copy(message = message)
    }

    /** At start-up and on pull-to-refresh (works from the cache when offline). */
    suspend fun sync() {
        attempt(::failed) { session.client.syncCatalogue() }
    }

    /** Called on every key: the search is local. */
    suspend fun search(query: String) {
        val found = attempt(::failed) { session.client.searchProcedures(query, null, 30u) } ?: return
        val rows = found.map {
            val name = if (lang == Lang.EN && it.nameEn.isNotEmpty()) it.nameEn else it.name
            ProcedureRow(it.code, name, money(lang, it.feeOnlineVnd), processingDays(lang, it.processingDays), it.nearest)
        }
        _state.value = CatalogueState(query, rows, rows.isNotEmpty() && rows.all { it.nearest })
    }
}

data class Paper(val name: String, val original: Boolean, val count: Int, val onlyWhen: String?)

data class ProcedureState(
    val code: String = "",
    val name: String = "",
    val agency: String = "",
    val fee: String = "",
    val onlineFee: String = "",
    val time: String = "",
    val onlineLevel: String = "",
    val papers: List<Paper> = emptyList(),
    val message: String? = null,
)

class ProcedureScreen(private val session: Session) {
    private val _state = MutableStateFlow(ProcedureState())
    val state: StateFlow<ProcedureState> = _state
    private val lang = session.lang

    private fun failed(message: String, @Suppress("UNUSED_PARAMETER") fields: Map<String, String>) {
        _state.value = _state.value.copy(message = message)
    }

    suspend fun open(code: String) {
        val detail = attempt(::failed) { session.client.procedure(code) } ?: return
        val p = detail.item
        val page = runCatching { parseJson(detail.procedureJson) as? Map<*, *> }.getOrNull().orEmpty()
        val papers = (page["required_documents"] as? List<*>).orEmpty().mapNotNull { it as? Map<*, *> }.map { doc ->
            val en = doc["name_en"] as? String
            Paper(
                name = if (lang == Lang.EN && !en.isNullOrEmpty()) en else (doc["name"] as? String).orEmpty(),
                original = doc["original"] == true,
                count = (doc["count"] as? Double)?.toInt() ?: 1,
                onlyWhen = doc["only_when"] as? String,
            )
        }
        _state.value = ProcedureState(
            code = p.code,
            name = if (lang == Lang.EN && p.nameEn.isNotEmpty()) p.nameEn else p.name,
            agency = p.agency,
            fee = money(lang, p.feeVnd),
            onlineFee = money(lang, p.feeOnlineVnd),
            time = processingDays(lang, p.processingDays),
            onlineLevel = when (val level = p.onlineLevel) {
                OnlineLevel.Full -> lang.t("Dịch vụ công trực tuyến toàn trình", "Fully online")
                OnlineLevel.Partial -> lang.t("Dịch vụ công trực tuyến một phần", "Partly online")
                is OnlineLevel.Unknown -> level.code
            },
            papers = papers,
        )
    }

    /** "Nộp hồ sơ": a new draft of this procedure; returns its id for the form screen. */
    suspend fun startDraft(): String? =
        attempt(::failed) { session.client.createDraft(_state.value.code).summary.id }
}
