// The Compose views: each draws one presentation state and calls that screen's actions.
// No rule and no formatting lives here (the states carry the words); kept small and obvious.
package vn.motcua.app

import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.*
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.*
import androidx.compose.runtime.*
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch
import vn.motcua.presentation.*

@Composable
fun BottomBar(route: Route, go: (Route) -> Unit, lang: Lang) {
    NavigationBar {
        for ((to, label) in listOf(
            Route.Catalogue to lang.t("Thủ tục", "Procedures"),
            Route.Drafts to lang.t("Nháp", "Drafts"),
            Route.Outbox to lang.t("Hộp thư đi", "Outbox"),
            Route.Dossiers to lang.t("Hồ sơ", "Dossiers"),
            Route.Notifications to lang.t("Thông báo", "Notices"),
            Route.Points to lang.t("Điểm phục vụ", "Offices"),
        )) NavigationBarItem(selected = route == to, onClick = { go(to) }, icon = {}, label = { Text(label) })
    }
}

@Composable
fun Message(text: String?) {
    if (text != null) Text(text, color = MaterialTheme.colorScheme.error, modifier = Modifier.padding(8.dp))
}

@Composable
fun Line(title: String, detail: String? = null, onClick: (() -> Unit)? = null) {
    Column(Modifier.fillMaxWidth().then(if (onClick != null) Modifier.clickable(onClick = onClick) else Modifier).padding(12.dp)) {
        Text(title, fontWeight = FontWeight.SemiBold)
        if (detail != null) Text(detail, style = MaterialTheme.typography.bodySmall)
    }
}

@Composable
fun AuthView(screen: AuthScreen, scope: CoroutineScope) {
    val s by screen.state.collectAsStateWithLifecycle()
    var login by remember { mutableStateOf("") }
    var password by remember { mutableStateOf("") }
    var citizenId by remember { mutableStateOf("") }
    var name by remember { mutableStateOf("") }
    var code by remember { mutableStateOf("") }
    Column(Modifier.padding(16.dp)) {
        Message(s.message)
        if (s.awaitingCode != null) {
            Text("Mã xác thực đã gửi tới ${s.phone}")
            OutlinedTextField(code, { code = it }, label = { Text("Mã 6 số") }, isError = "code" in s.fieldErrors)
            Button({ scope.launch { screen.verify(code) } }) { Text("Xác thực") }
            return@Column
        }
        OutlinedTextField(login, { login = it }, label = { Text("Số điện thoại") }, isError = "phone" in s.fieldErrors)
        OutlinedTextField(password, { password = it }, label = { Text("Mật khẩu") }, isError = "password" in s.fieldErrors)
        Button({ scope.launch { screen.signIn(login, password) } }) { Text("Đăng nhập") }
        OutlinedTextField(citizenId, { citizenId = it }, label = { Text("Số CCCD") }, isError = "citizen_id" in s.fieldErrors)
        OutlinedTextField(name, { name = it }, label = { Text("Họ và tên") }, isError = "full_name" in s.fieldErrors)
        Button({ scope.launch { screen.register(citizenId, login, name, password) } }) { Text("Đăng ký") }
    }
}

@Composable
fun RouteView(route: Route, screens: Screens, activity: MainActivity, scope: CoroutineScope) {
    when (route) {
        Route.Catalogue -> CatalogueView(screens.catalogue, scope) { activity.go(Route.Procedure(it)) }
        is Route.Procedure -> ProcedureView(screens.procedure, route.code, scope) { activity.go(Route.Form(it)) }
        is Route.Form -> FormView(screens.form, route.draftId, activity, scope)
        Route.Drafts -> DraftsView(screens.drafts, scope) { activity.go(Route.Form(it)) }
        Route.Outbox -> OutboxView(screens.outbox, scope)
        Route.Dossiers -> DossiersView(screens.dossiers, scope) { activity.go(Route.Dossier(it)) }
        is Route.Dossier -> DossierView(screens.dossier, route.id, scope) { activity.go(Route.Form(it)) }
        Route.Notifications -> NotificationsView(screens.notifications, scope) { activity.go(Route.Dossier(it)) }
        Route.Points -> PointsView(screens.points, scope)
    }
}

@Composable
fun CatalogueView(screen: CatalogueScreen, scope: CoroutineScope, open: (String) -> Unit) {
    val s by screen.state.collectAsStateWithLifecycle()
    Column {
        OutlinedTextField(s.query, { q -> scope.launch { screen.search(q) } }, label = { Text("Tìm thủ tục") }, modifier = Modifier.fillMaxWidth())
        Message(s.message)
        if (s.nearestOnly) Text("Không thấy thủ tục khớp; các thủ tục gần nhất:", Modifier.padding(8.dp))
        LazyColumn { items(s.rows) { r -> Line(r.name, "${r.fee} · ${r.days}") { open(r.code) } } }
    }
}

@Composable
fun ProcedureView(screen: ProcedureScreen, code: String, scope: CoroutineScope, started: (String) -> Unit) {
    LaunchedEffect(code) { screen.open(code) }
    val s by screen.state.collectAsStateWithLifecycle()
    LazyColumn(Modifier.padding(12.dp)) {
        item {
            Text(s.name, style = MaterialTheme.typography.titleLarge)
            Text("${s.agency}\nLệ phí: ${s.fee} (trực tuyến ${s.onlineFee})\nThời hạn: ${s.time}\n${s.onlineLevel}")
            Message(s.message)
            Text("Giấy tờ cần có", fontWeight = FontWeight.SemiBold)
        }
        items(s.papers) { p -> Text("• ${p.name} (${if (p.original) "bản chính" else "bản sao"}, ${p.count})" + (p.onlyWhen?.let { " — $it" } ?: "")) }
        item { Button({ scope.launch { screen.startDraft()?.let(started) } }) { Text("Nộp hồ sơ") } }
    }
}

@Composable
fun FormView(screen: FormScreen, draftId: String, activity: MainActivity, scope: CoroutineScope) {
    LaunchedEffect(draftId) { screen.open(draftId) }
    val s by screen.state.collectAsStateWithLifecycle()
    LazyColumn(Modifier.padding(12.dp)) {
        item { Text(s.title, style = MaterialTheme.typography.titleLarge); Message(s.message) }
        items(s.rows, key = { it.key }) { r -> FieldView(r, s.editable, screen, activity, scope) }
        item {
            Text(if (s.problems == 0) "Sẵn sàng gửi" else "Còn ${s.problems} mục cần sửa")
            if (s.editable) Button({ scope.launch { screen.submit() } }) { Text("Gửi") }
            if (s.queuedItem != null) Text("Đã đưa vào hộp thư đi: sẽ gửi khi có mạng.")
        }
    }
}

@Composable
fun FieldView(r: FieldRow, editable: Boolean, screen: FormScreen, activity: MainActivity, scope: CoroutineScope) {
    val label = r.label + if (r.required) " *" else ""
    val error = r.errors.firstOrNull()
    Column(Modifier.padding(vertical = 6.dp)) {
        when (r.input) {
            Input.TEXT, Input.MULTILINE, Input.NUMBER, Input.DATE -> {
                var text by remember(r.key) { mutableStateOf(r.text) }
                OutlinedTextField(text, { text = it; scope.launch { screen.type(r.key, it) } }, enabled = editable,
                    label = { Text(label) }, isError = error != null, singleLine = r.input != Input.MULTILINE,
                    placeholder = { if (r.input == Input.DATE) Text("dd/mm/yyyy") })
            }
            Input.CHOICE, Input.CHOICES -> {
                Text(label)
                for (o in r.options) Row {
                    val picked = o.label in r.text.split(", ") || o.value in r.text.split(", ")
                    Checkbox(picked, { scope.launch { if (r.input == Input.CHOICE) screen.choose(r.key, o.value) else screen.toggle(r.key, o.value) } }, enabled = editable)
                    Text(o.label)
                }
            }
            Input.CHECKBOX -> Row { Checkbox(r.checked, { scope.launch { screen.check(r.key, it) } }, enabled = editable); Text(label) }
            Input.ADDRESS -> AddressView(r, label, editable, screen, scope)
            Input.GROUP -> Line(label, r.text)
            Input.FILES -> {
                Text(label)
                for (f in r.files) Row { Text(f.fileName); if (editable) TextButton({ scope.launch { screen.removeFile(f.id) } }) { Text("Xóa") } }
                if (editable) Row {
                    TextButton({ activity.takePhoto(r.key) }) { Text("Chụp ảnh") }
                    TextButton({ activity.pickPhoto(r.key) }) { Text("Chọn ảnh") }
                }
            }
        }
        if (error != null) Text(error, color = MaterialTheme.colorScheme.error)
        r.help?.let { Text(it, style = MaterialTheme.typography.bodySmall) }
    }
}

@Composable
fun AddressView(r: FieldRow, label: String, editable: Boolean, screen: FormScreen, scope: CoroutineScope) {
    var province by remember(r.key) { mutableStateOf("") }
    var ward by remember(r.key) { mutableStateOf("") }
    var street by remember(r.key) { mutableStateOf("") }
    Text("$label: ${r.text}")
    OutlinedTextField(province, { province = it }, label = { Text("Tỉnh/thành phố") }, enabled = editable)
    OutlinedTextField(ward, { ward = it }, label = { Text("Phường/xã") }, enabled = editable)
    OutlinedTextField(street, { street = it }, label = { Text("Số nhà, đường") }, enabled = editable)
    if (editable) TextButton({ scope.launch { screen.setAddress(r.key, province, ward, street) } }) { Text("Lưu địa chỉ") }
}

@Composable
fun DraftsView(screen: DraftsScreen, scope: CoroutineScope, open: (String) -> Unit) {
    LaunchedEffect(Unit) { screen.load() }
    val s by screen.state.collectAsStateWithLifecycle()
    LazyColumn {
        items(s.rows) { d -> Row { Line(d.title, "${d.state} · ${d.updated}") { open(d.id) }; TextButton({ scope.launch { screen.delete(d.id) } }) { Text("Xóa") } } }
    }
}

@Composable
fun OutboxView(screen: OutboxScreen, scope: CoroutineScope) {
    LaunchedEffect(Unit) { screen.load() }
    val s by screen.state.collectAsStateWithLifecycle()
    LazyColumn {
        item { Button({ scope.launch { screen.sendNow() } }) { Text("Gửi ngay") }; Message(s.message) }
        items(s.rows) { r ->
            Line(r.title, r.words)
            Row {
                if (r.canRetry) TextButton({ scope.launch { screen.retry(r.id) } }) { Text("Thử lại") }
                if (r.canCancel) TextButton({ scope.launch { screen.cancel(r.id) } }) { Text("Rút lại để sửa") }
            }
        }
    }
}

@Composable
fun DossiersView(screen: DossiersScreen, scope: CoroutineScope, open: (String) -> Unit) {
    LaunchedEffect(Unit) { screen.refresh() }
    val s by screen.state.collectAsStateWithLifecycle()
    LazyColumn {
        item { if (s.offline) Text("Ngoại tuyến: danh sách đã lưu trên máy", Modifier.padding(8.dp)) }
        items(s.rows) { d -> Line("${d.code} · ${d.procedure}", "${d.status} · ${d.due?.let { "hạn $it · " } ?: ""}${d.deadline}") { open(d.id) } }
    }
}

@Composable
fun DossierView(screen: DossierScreen, id: String, scope: CoroutineScope, answer: (String) -> Unit) {
    LaunchedEffect(id) { screen.open(id) }
    val s by screen.state.collectAsStateWithLifecycle()
    var comment by remember { mutableStateOf("") }
    // The platform's "save as" picker; the chosen document gets the downloaded bytes.
    val resolver = LocalContext.current.contentResolver
    val save = rememberLauncherForActivityResult(ActivityResultContracts.CreateDocument("*/*")) { uri ->
        val file = s.result
        if (uri != null && file != null) resolver.openOutputStream(uri)?.use { it.write(file.bytes) }
    }
    LazyColumn(Modifier.padding(12.dp)) {
        item {
            s.row?.let { Text("${it.code}: ${it.status}", style = MaterialTheme.typography.titleLarge); it.due?.let { d -> Text("Hạn trả kết quả: $d") } }
            Message(s.message)
            s.supplementNote?.let { note ->
                Text("Yêu cầu bổ sung: $note")
                Button({ scope.launch { screen.answerSupplement(null)?.let(answer) } }) { Text("Bổ sung hồ sơ") }
            }
            if (s.canRate) {
                OutlinedTextField(comment, { comment = it }, label = { Text("Nhận xét") })
                Row { for (star in 1..5) TextButton({ scope.launch { screen.rate(star, comment) } }) { Text("$star★") } }
            }
            s.rating?.let { Text("Đã đánh giá: $it★ ${s.ratingComment ?: ""}") }
            Button({ scope.launch { screen.downloadResult() } }) { Text("Tải kết quả") }
            Message(s.resultUnavailable)
            s.result?.let { file ->
                Text("${file.fileName} (${file.bytes.size} byte)")
                Button({ save.launch(file.fileName) }) { Text("Lưu vào máy") }
            }
        }
        items(s.timeline) { t -> Line("${t.at} · ${t.what}", t.note) }
    }
}

@Composable
fun NotificationsView(screen: NotificationsScreen, scope: CoroutineScope, open: (String) -> Unit) {
    LaunchedEffect(Unit) { screen.refresh() }
    val s by screen.state.collectAsStateWithLifecycle()
    LazyColumn {
        items(s.rows) { n -> Line((if (n.read) "" else "● ") + n.title, "${n.at} · ${n.body}") { scope.launch { screen.open(n.id)?.let(open) } } }
    }
}

@Composable
fun PointsView(screen: ServicePointsScreen, scope: CoroutineScope) {
    // The position comes from the fused location provider in a full build; without a fix
    // the list is every point, unsorted.
    LaunchedEffect(Unit) { screen.sync(); screen.near(null, null) }
    val s by screen.state.collectAsStateWithLifecycle()
    LazyColumn { items(s.rows) { p -> Line(p.name, listOfNotNull(p.distance, p.address, p.hours, p.phone).joinToString(" · ")) } }
}
