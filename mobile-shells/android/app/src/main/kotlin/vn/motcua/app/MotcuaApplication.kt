// The app process: opens the one MotcuaClient (Keystore tokens, the built-in HTTP stack),
// makes the presentation Session and its screens, and reaches the platform: the
// connectivity callback → Session.networkBack (sync now), the FCM token → registerDevice.
package vn.motcua.app

import android.app.Application
import android.net.ConnectivityManager
import android.net.Network
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import vn.motcua.client.ClientConfig
import vn.motcua.client.MotcuaClient
import vn.motcua.presentation.*

class MotcuaApplication : Application() {
    val scope = CoroutineScope(SupervisorJob())
    lateinit var session: Session
        private set
    lateinit var screens: Screens
        private set

    override fun onCreate() {
        super.onCreate()
        val lang = if (resources.configuration.locales[0].language == "en") Lang.EN else Lang.VI
        val config = ClientConfig(BuildConfig.API_URL, filesDir.resolve("motcua").absolutePath, lang.code, 0UL, 0UL)
        // Opening is quick (a local SQLite file); the first screen needs it.
        val client = runBlocking { MotcuaClient.open(config, KeystoreTokens(this@MotcuaApplication), null) }
        session = Session(client, lang)
        screens = Screens(session)
        scope.launch {
            screens.catalogue.sync()
            screens.outbox.sendNow()
        }
        getSystemService(ConnectivityManager::class.java).registerDefaultNetworkCallback(object : ConnectivityManager.NetworkCallback() {
            override fun onAvailable(network: Network) {
                scope.launch {
                    session.networkBack()
                    screens.outbox.load()
                    screens.dossiers.refresh()
                }
            }
        })
    }
}

/** One of each screen, kept for the process (their states survive rotation). */
class Screens(session: Session) {
    val auth = AuthScreen(session)
    val catalogue = CatalogueScreen(session)
    val procedure = ProcedureScreen(session)
    val form = FormScreen(session)
    val drafts = DraftsScreen(session)
    val outbox = OutboxScreen(session)
    val dossiers = DossiersScreen(session)
    val dossier = DossierScreen(session)
    val notifications = NotificationsScreen(session)
    val points = ServicePointsScreen(session)
}
