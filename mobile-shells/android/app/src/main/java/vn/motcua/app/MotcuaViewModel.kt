// The shell's ViewModel: owns the one MotcuaClient of the app, gives it Keystore-backed
// token storage and a listener, and turns its calls into UI state. No rule lives here:
// search, drafts, validation and the outbox are all in the Rust core.
package vn.motcua.app

import android.app.Application
import android.content.Context
import androidx.lifecycle.AndroidViewModel
import androidx.lifecycle.viewModelScope
import androidx.security.crypto.EncryptedSharedPreferences
import androidx.security.crypto.MasterKey
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.launch
import vn.motcua.client.*

/** The API's address; a real build takes it from its build flavour. */
const val BASE_URL = "https://api.motcua.example.vn"

data class UiState(
    val signedIn: Boolean = false,
    val procedures: List<ProcedureItem> = emptyList(),
    val dossiers: List<DossierItem> = emptyList(),
    val message: String? = null,
)

/** Tokens in EncryptedSharedPreferences (keys in the Android Keystore). */
class KeystoreTokens(context: Context) : TokenStore {
    private val prefs = EncryptedSharedPreferences.create(
        context,
        "motcua_tokens",
        MasterKey.Builder(context).setKeyScheme(MasterKey.KeyScheme.AES256_GCM).build(),
        EncryptedSharedPreferences.PrefKeyEncryptionScheme.AES256_SIV,
        EncryptedSharedPreferences.PrefValueEncryptionScheme.AES256_GCM,
    )

    override fun load(): StoredTokens? {
        val access = prefs.getString("access", null) ?: return null
        val refresh = prefs.getString("refresh", null) ?: return null
        return StoredTokens(access, refresh, prefs.getLong("access_exp", 0), prefs.getLong("refresh_exp", 0))
    }

    override fun save(tokens: StoredTokens) {
        prefs.edit()
            .putString("access", tokens.accessToken)
            .putString("refresh", tokens.refreshToken)
            .putLong("access_exp", tokens.accessExpiresAtMs)
            .putLong("refresh_exp", tokens.refreshExpiresAtMs)
            .apply()
    }

    override fun clear() {
        prefs.edit().clear().apply()
    }
}

class MotcuaViewModel(app: Application) : AndroidViewModel(app), EventListener {
    private val _state = MutableStateFlow(UiState())
    val state: StateFlow<UiState> = _state
    private var client: MotcuaClient? = null

    init {
        viewModelScope.launch {
            val config = ClientConfig(BASE_URL, app.filesDir.absolutePath + "/motcua", "vi", 0UL, 0UL)
            val opened = MotcuaClient.open(config, KeystoreTokens(app), null)
            opened.setListener(this@MotcuaViewModel)
            client = opened
            _state.value = _state.value.copy(signedIn = opened.isSignedIn(), dossiers = opened.dossiers())
            launch { c ->
                c.syncCatalogue()
                c.syncOutbox()
            }
        }
    }

    fun search(query: String) = launch { c ->
        _state.value = _state.value.copy(procedures = c.searchProcedures(query, null, 50u))
    }

    fun login(login: String, password: String) = launch { c ->
        c.login(login, password)
        _state.value = _state.value.copy(signedIn = true, dossiers = c.refreshDossiers())
    }

    /** Called when connectivity returns (from a ConnectivityManager callback). */
    fun onOnline() = launch { c ->
        c.syncOutbox()
        _state.value = _state.value.copy(dossiers = c.refreshDossiers())
    }

    override fun onOutboxEvent(event: OutboxEvent) {
        if (event.stage is OutboxStage.Sent) {
            _state.value = _state.value.copy(message = "Đã nộp hồ sơ ${(event.stage as OutboxStage.Sent).dossierCode}")
        }
    }

    override fun onDossierStatusChanged(change: DossierStatusChange) {
        _state.value = _state.value.copy(message = "Hồ sơ ${change.dossierCode}: ${change.toStatus}")
    }

    override fun onSignedOut() {
        _state.value = UiState(signedIn = false, message = "Phiên đăng nhập đã hết hạn, vui lòng đăng nhập lại")
    }

    /** Runs one call on the client, turning its error into a message for the citizen. */
    private fun launch(block: suspend (MotcuaClient) -> Unit) = viewModelScope.launch {
        val c = client ?: return@launch
        try {
            block(c)
        } catch (e: MotcuaException.Network) {
            show("Không có kết nối; công việc được lưu và sẽ gửi khi có mạng")
        } catch (e: MotcuaException.SignedOut) {
            _state.value = _state.value.copy(signedIn = false)
        } catch (e: MotcuaException.Validation) {
            show(e.fields.joinToString("\n") { it.message })
        } catch (e: MotcuaException) {
            show("Đã có lỗi, vui lòng thử lại")
        }
    }

    private fun show(message: String) {
        _state.value = _state.value.copy(message = message)
    }

    override fun onCleared() {
        client?.destroy()
    }
}
