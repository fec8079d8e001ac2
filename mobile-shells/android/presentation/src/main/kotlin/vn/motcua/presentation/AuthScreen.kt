// The sign-in / register screen: its state and actions (register → code by SMS → verify,
// or sign in; sign out). The core checks every value and says what is wrong, per field.
package vn.motcua.presentation

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow

data class AuthState(
    /** Set once a code was sent: the screen then asks for it. */
    val awaitingCode: String? = null,
    val phone: String? = null,
    val userName: String? = null,
    val message: String? = null,
    val fieldErrors: Map<String, String> = emptyMap(),
)

class AuthScreen(private val session: Session) {
    private val _state = MutableStateFlow(AuthState())
    val state: StateFlow<AuthState> = _state
    private val c = session.client

    private fun failed(message: String, fields: Map<String, String>) {
        _state.value = _state.value.copy(message = message, fieldErrors = fields)
    }

    suspend fun load() {
        val user = attempt(::failed) { c.currentUser() }
        _state.value = _state.value.copy(userName = user?.fullName)
    }

    suspend fun register(citizenId: String, phone: String, fullName: String, password: String) {
        val pending = attempt(::failed) { c.register(citizenId, phone, fullName, password) } ?: return
        _state.value = AuthState(awaitingCode = pending.verificationId, phone = pending.phone)
    }

    suspend fun verify(code: String) {
        val id = _state.value.awaitingCode ?: return
        val user = attempt(::failed) { c.verifyPhone(id, code) } ?: return
        _state.value = AuthState(userName = user.fullName)
        session.signedInChanged()
    }

    suspend fun signIn(login: String, password: String) {
        val user = attempt(::failed) { c.login(login, password) } ?: return
        _state.value = AuthState(userName = user.fullName)
        session.signedInChanged()
    }

    suspend fun signOut() {
        attempt(::failed) { c.logout() } ?: return
        _state.value = AuthState()
        session.signedInChanged()
    }
}
