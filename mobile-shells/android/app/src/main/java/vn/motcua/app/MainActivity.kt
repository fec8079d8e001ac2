// The shell's one screen, built with plain Android Views: search the procedure catalogue
// (works offline, with or without diacritics), sign in, and see my dossiers and messages.
package vn.motcua.app

import android.os.Bundle
import android.widget.Button
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.ScrollView
import android.widget.TextView
import androidx.activity.viewModels
import androidx.appcompat.app.AppCompatActivity
import androidx.lifecycle.Lifecycle
import androidx.lifecycle.lifecycleScope
import androidx.lifecycle.repeatOnLifecycle
import kotlinx.coroutines.launch

class MainActivity : AppCompatActivity() {
    private val model: MotcuaViewModel by viewModels()

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val query = EditText(this).apply { hint = "Tìm thủ tục (vd: dang ky khai sinh)" }
        val search = Button(this).apply { text = "Tìm" }
        val login = EditText(this).apply { hint = "Số căn cước hoặc điện thoại" }
        val password = EditText(this).apply {
            hint = "Mật khẩu"
            inputType = android.text.InputType.TYPE_CLASS_TEXT or android.text.InputType.TYPE_TEXT_VARIATION_PASSWORD
        }
        val signIn = Button(this).apply { text = "Đăng nhập" }
        val output = TextView(this)
        val column = LinearLayout(this).apply {
            orientation = LinearLayout.VERTICAL
            listOf(query, search, login, password, signIn, output).forEach(::addView)
        }
        setContentView(ScrollView(this).apply { addView(column) })

        search.setOnClickListener { model.search(query.text.toString()) }
        signIn.setOnClickListener { model.login(login.text.toString(), password.text.toString()) }

        lifecycleScope.launch {
            repeatOnLifecycle(Lifecycle.State.STARTED) {
                model.state.collect { state ->
                    login.isEnabled = !state.signedIn
                    password.isEnabled = !state.signedIn
                    signIn.isEnabled = !state.signedIn
                    output.text = buildString {
                        state.message?.let { appendLine(it).appendLine() }
                        state.procedures.forEach { appendLine("${it.code}  ${it.name}  (lệ phí trực tuyến: ${it.feeOnlineVnd} đồng)") }
                        if (state.dossiers.isNotEmpty()) appendLine().appendLine("Hồ sơ của tôi")
                        state.dossiers.forEach { appendLine("${it.code}  ${it.procedureName}: ${it.statusLabel}") }
                    }
                }
            }
        }
    }
}
