// FCM: a new token goes to the core (kept until sign-in, then sent); a delivered message
// goes to the core's receivePush, and one it has not shown yet becomes a system notification
// whose tap opens its dossier in MainActivity.
package vn.motcua.app

import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.Intent
import androidx.core.app.NotificationCompat
import com.google.firebase.messaging.FirebaseMessagingService
import com.google.firebase.messaging.RemoteMessage
import kotlinx.coroutines.launch

class MessagingService : FirebaseMessagingService() {
    private val app get() = application as MotcuaApplication

    override fun onNewToken(token: String) {
        app.scope.launch { runCatching { app.session.client.registerDevice(token, "android", BuildConfig.VERSION_NAME) } }
    }

    override fun onMessageReceived(message: RemoteMessage) {
        app.scope.launch {
            val dossierId = app.session.pushOpens(message.data) ?: return@launch
            val open = Intent(this@MessagingService, MainActivity::class.java)
                .putExtra(MainActivity.OPEN_DOSSIER, dossierId)
                .addFlags(Intent.FLAG_ACTIVITY_NEW_TASK or Intent.FLAG_ACTIVITY_CLEAR_TOP)
            val tap = PendingIntent.getActivity(this@MessagingService, dossierId.hashCode(), open, PendingIntent.FLAG_IMMUTABLE)
            val manager = getSystemService(NotificationManager::class.java)
            manager.createNotificationChannel(NotificationChannel("dossiers", "Hồ sơ", NotificationManager.IMPORTANCE_DEFAULT))
            val shown = NotificationCompat.Builder(this@MessagingService, "dossiers")
                .setSmallIcon(android.R.drawable.stat_notify_sync)
                .setContentTitle(message.notification?.title ?: "Một cửa")
                .setContentText(message.notification?.body)
                .setContentIntent(tap)
                .setAutoCancel(true)
                .build()
            manager.notify(dossierId.hashCode(), shown)
        }
    }
}
