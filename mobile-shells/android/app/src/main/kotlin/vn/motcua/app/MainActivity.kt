// The one Activity: which screen shows (a small route state), the bottom bar, the camera
// and gallery pickers (a photo is copied to a file and attached to the draft), and an
// FCM notification's tap opening its dossier. Everything drawn comes from :presentation.
package vn.motcua.app

import android.content.Intent
import android.net.Uri
import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.activity.result.PickVisualMediaRequest
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.*
import androidx.compose.runtime.*
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.core.content.FileProvider
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import androidx.lifecycle.lifecycleScope
import kotlinx.coroutines.launch

sealed interface Route {
    data object Catalogue : Route
    data class Procedure(val code: String) : Route
    data class Form(val draftId: String) : Route
    data object Drafts : Route
    data object Outbox : Route
    data object Dossiers : Route
    data class Dossier(val id: String) : Route
    data object Notifications : Route
    data object Points : Route
}

class MainActivity : ComponentActivity() {
    companion object {
        const val OPEN_DOSSIER = "open_dossier"
    }

    private val app get() = application as MotcuaApplication
    private var route by mutableStateOf<Route>(Route.Catalogue)
    /** The attachment field a picked or taken photo goes to. */
    private var photoField: String? = null
    private var cameraFile: java.io.File? = null

    private val gallery = registerForActivityResult(ActivityResultContracts.PickVisualMedia()) { uri -> uri?.let(::attachPicked) }
    private val camera = registerForActivityResult(ActivityResultContracts.TakePicture()) { taken ->
        val file = cameraFile
        if (taken && file != null) attachFile(file)
    }

    private fun attachPicked(uri: Uri) {
        val file = cacheDir.resolve("photo-${System.currentTimeMillis()}.jpg")
        contentResolver.openInputStream(uri)?.use { input -> file.outputStream().use { input.copyTo(it) } }
        attachFile(file)
    }

    private fun attachFile(file: java.io.File) {
        val key = photoField ?: return
        lifecycleScope.launch { app.screens.form.attach(key, file.absolutePath, file.name) }
    }

    fun pickPhoto(fieldKey: String) {
        photoField = fieldKey
        gallery.launch(PickVisualMediaRequest(ActivityResultContracts.PickVisualMedia.ImageOnly))
    }

    fun takePhoto(fieldKey: String) {
        photoField = fieldKey
        val file = cacheDir.resolve("camera-${System.currentTimeMillis()}.jpg").also { cameraFile = it }
        camera.launch(FileProvider.getUriForFile(this, "$packageName.files", file))
    }

    fun go(to: Route) {
        route = to
    }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        openFrom(intent)
        setContent {
            MaterialTheme {
                val signedIn by app.session.signedIn.collectAsStateWithLifecycle()
                if (!signedIn) {
                    AuthView(app.screens.auth, lifecycleScope)
                    return@MaterialTheme
                }
                val notice by app.session.notice.collectAsStateWithLifecycle()
                Scaffold(
                    topBar = { notice?.let { Text(it, Modifier.padding(12.dp)) } },
                    bottomBar = { BottomBar(route, ::go, app.session.lang) },
                ) { padding ->
                    Surface(Modifier.padding(padding)) {
                        RouteView(route, app.screens, this@MainActivity, lifecycleScope)
                    }
                }
            }
        }
    }

    override fun onNewIntent(intent: Intent) {
        super.onNewIntent(intent)
        openFrom(intent)
    }

    private fun openFrom(intent: Intent?) {
        intent?.getStringExtra(OPEN_DOSSIER)?.let { route = Route.Dossier(it) }
    }
}
