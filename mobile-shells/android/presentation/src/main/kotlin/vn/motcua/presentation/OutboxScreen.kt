// The outbox screen: each item's state in words (waiting, waiting for the network and the
// next try's time, being sent, needs attention and why, sent), retry and cancel, and
// "send now". The sending itself and its backoff are the core's.
package vn.motcua.presentation

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import vn.motcua.client.*

enum class ItemPhase { WAITING, WAITING_FOR_NETWORK, SENDING, NEEDS_ATTENTION, SENT }

data class OutboxRow(
    val id: String,
    val draftId: String,
    val title: String,
    val phase: ItemPhase,
    /** The phase in words, with the next try's time or the reason when there is one. */
    val words: String,
    val canRetry: Boolean,
    val canCancel: Boolean,
)

data class OutboxListState(val rows: List<OutboxRow> = emptyList(), val message: String? = null)

class OutboxScreen(private val session: Session) {
    private val _state = MutableStateFlow(OutboxListState())
    val state: StateFlow<OutboxListState> = _state
    private val lang = session.lang
    private val c = session.client

    private fun failed(message: String, @Suppress("UNUSED_PARAMETER") fields: Map<String, String>) {
        _state.value = _state.value.copy(message = message)
    }

    suspend fun load() {
        val items = attempt(::failed) { c.outbox() } ?: return
        val titles = attempt(::failed) { c.listDrafts() }.orEmpty().associate { it.id to it.procedureName }
        val reportTitle = lang.t("Phản ánh hiện trường", "Field report")
        _state.value = OutboxListState(items.map { item ->
            val sending = session.sending.value[item.id]
            val (phase, words) = when {
                item.state == OutboxState.SENT -> ItemPhase.SENT to lang.t("Đã gửi", "Sent")
                item.state == OutboxState.PARKED -> ItemPhase.NEEDS_ATTENTION to
                    lang.t("Cần xử lý: ", "Needs attention: ") + (item.parkReason?.let { parkWords(lang, it) } ?: "")
                sending != null -> ItemPhase.SENDING to sending
                item.attempts > 0u -> ItemPhase.WAITING_FOR_NETWORK to
                    lang.t("Chờ có mạng, thử lại lúc ", "Waiting for the network, next try at ") + timeOfDay(item.nextAttemptAtMs)
                else -> ItemPhase.WAITING to lang.t("Đang chờ gửi", "Waiting to be sent")
            }
            OutboxRow(
                id = item.id,
                draftId = item.draftId,
                title = titles[item.draftId] ?: reportTitle,
                phase = phase,
                words = words,
                canRetry = item.state == OutboxState.PARKED,
                canCancel = item.state != OutboxState.SENT && sending == null,
            )
        })
    }

    /** "Gửi ngay" (and what the connectivity callback does): a pass now, then the new states. */
    suspend fun sendNow(): OutboxReport? {
        val report = attempt(::failed) { c.syncNow() }
        load()
        return report
    }

    suspend fun retry(itemId: String) {
        attempt(::failed) { c.retryOutboxItem(itemId) } ?: return
        load()
    }

    /** Takes the item back: its draft can be edited again. */
    suspend fun cancel(itemId: String) {
        attempt(::failed) { c.cancelOutboxItem(itemId) } ?: return
        load()
    }
}
