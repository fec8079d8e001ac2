// Notifications (opening one marks it read and names the dossier to open) and the service
// points near a position (nearest first, from the phone's cached list when offline).
package vn.motcua.presentation

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow

data class NotificationRow(val id: String, val title: String, val body: String, val at: String, val read: Boolean, val dossierId: String?)

data class NotificationsState(val rows: List<NotificationRow> = emptyList(), val unread: Int = 0, val message: String? = null)

class NotificationsScreen(private val session: Session) {
    private val _state = MutableStateFlow(NotificationsState())
    val state: StateFlow<NotificationsState> = _state
    private val c = session.client

    suspend fun refresh() {
        var failure: String? = null
        val list = attempt({ m, _ -> failure = m }) { c.refreshNotifications() }
            ?: attempt({ m, _ -> failure = m }) { c.notifications() }.orEmpty()
        val rows = list.map { NotificationRow(it.id, it.title, it.body, dateTime(it.createdAtMs), it.read, it.dossierId) }
        _state.value = NotificationsState(rows, rows.count { !it.read }, failure)
    }

    /** Tapping a notification: read, and the dossier to open (null when it is about no dossier). */
    suspend fun open(notificationId: String): String? {
        val row = _state.value.rows.firstOrNull { it.id == notificationId } ?: return null
        attempt({ m, _ -> _state.value = _state.value.copy(message = m) }) { c.markNotificationRead(notificationId) }
        val rows = _state.value.rows.map { if (it.id == notificationId) it.copy(read = true) else it }
        _state.value = _state.value.copy(rows = rows, unread = rows.count { !it.read })
        return row.dossierId
    }
}

data class PointRow(val code: String, val name: String, val address: String, val distance: String?, val hours: String?, val phone: String?)

data class ServicePointsState(val rows: List<PointRow> = emptyList(), val message: String? = null)

class ServicePointsScreen(private val session: Session) {
    private val _state = MutableStateFlow(ServicePointsState())
    val state: StateFlow<ServicePointsState> = _state
    private val c = session.client

    private fun failed(message: String, @Suppress("UNUSED_PARAMETER") fields: Map<String, String>) {
        _state.value = _state.value.copy(message = message)
    }

    /** Online: refreshes the phone's copy (a failure leaves the copy as it was). */
    suspend fun sync() {
        attempt(::failed) { c.syncServicePoints() }
    }

    /** Nearest first from the phone's position (or none: every point), optionally those taking a procedure. */
    suspend fun near(lat: Double?, lng: Double?, procedureCode: String? = null, limit: Int = 20) {
        val points = attempt(::failed) { c.servicePoints(lat, lng, procedureCode) } ?: return
        _state.value = ServicePointsState(points.take(limit).map {
            PointRow(it.code, it.name, it.address, it.distanceKm?.let(::distance), it.openingHours, it.phone)
        })
    }
}
