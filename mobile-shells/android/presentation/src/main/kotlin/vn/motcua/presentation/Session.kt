// The app's one MotcuaClient and what every screen shares: the language, whether someone is
// signed in, which outbox items are being sent right now (from the core's events), and the
// platform's hooks (network back → syncNow, a push message → the screen it opens).
package vn.motcua.presentation

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import vn.motcua.client.*

/** Runs [block]; a core error becomes its sentence (and the refused fields) instead of a crash. */
internal suspend fun <T> attempt(onError: (String, Map<String, String>) -> Unit, block: suspend () -> T): T? =
    try {
        block()
    } catch (e: MotcuaException) {
        val fields = if (e is MotcuaException.Validation) e.fields.associate { it.path to it.message } else emptyMap()
        onError(userMessage(e), fields)
        null
    }

class Session(val client: MotcuaClient, val lang: Lang) : EventListener {
    private val _signedIn = MutableStateFlow(client.isSignedIn())
    val signedIn: StateFlow<Boolean> = _signedIn
    private val _sending = MutableStateFlow<Map<String, String>>(emptyMap())

    /** Outbox items being sent now, with what is happening ("Đang tải tệp 40%"). */
    val sending: StateFlow<Map<String, String>> = _sending
    private val _notice = MutableStateFlow<String?>(null)

    /** The latest news from the core's events, for a snackbar: a filing sent, a status changed. */
    val notice: StateFlow<String?> = _notice

    init {
        client.setListener(this)
    }

    internal fun signedInChanged() {
        _signedIn.value = client.isSignedIn()
    }

    override fun onOutboxEvent(event: OutboxEvent) {
        val now = when (val stage = event.stage) {
            is OutboxStage.Uploading -> {
                val percent = if (stage.totalBytes == 0UL) 100UL else stage.sentBytes * 100UL / stage.totalBytes
                lang.t("Đang tải tệp $percent%", "Uploading $percent%")
            }
            OutboxStage.Submitting -> lang.t("Đang gửi", "Sending")
            else -> null
        }
        when (val stage = event.stage) {
            is OutboxStage.Sent -> _notice.value = lang.t("Đã nộp hồ sơ ", "Filed: dossier ") + stage.dossierCode
            is OutboxStage.ReportSent -> _notice.value = lang.t("Đã gửi phản ánh ", "Report sent: ") + stage.reportCode
            else -> {}
        }
        _sending.value = if (now == null) _sending.value - event.itemId else _sending.value + (event.itemId to now)
    }

    override fun onDossierStatusChanged(change: DossierStatusChange) {
        _notice.value = lang.t("Hồ sơ ", "Dossier ") + change.dossierCode + ": " + statusWords(lang, change.toStatus)
    }

    override fun onSignedOut() {
        _signedIn.value = false
    }

    /** The connectivity callback ("the network is back"): one pass over the outbox now. */
    suspend fun networkBack(): OutboxReport? = attempt({ _, _ -> }) { client.syncNow() }

    /** A delivered push message's data: the dossier it opens, or null (already shown, or not a dossier). */
    suspend fun pushOpens(data: Map<String, String>): String? = attempt({ _, _ -> }) {
        (client.receivePush(data)?.target as? PushTarget.Dossier)?.dossierId
    }
}
