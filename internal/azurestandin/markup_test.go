package azurestandin

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCommentMarkupProblems(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		message string
		want    []string
	}{
		{"plain text", "PLC 10.13.10.1 was reprogrammed", nil},
		{"text with < and &", "a < b && c > d", nil},
		{"allowed markup", `<p><b>Asset</b> <i>EWS-07</i><br/><u>Line 3</u></p><ul><li><strong>IP</strong>: <code>10.0.0.7</code></li></ul><ol><li><em>x</em></li></ol><pre>raw</pre>`, nil},
		{"https link", `<a href="https://portal.azure.com/#asset/x">incident</a>`, nil},
		{"http link", `<a href="http://10.0.0.5/alerts/1">alert</a>`, nil},
		{"upper-case tags", `<P>x</P><BR>`, nil},
		{"script", `<p>x</p><script>alert(1)</script>`, []string{"tag <script>"}},
		{"each problem once, in order", `<table><tr><td>a</td></tr></table><div>b</div><table></table>`, []string{"tag <table>", "tag <tr>", "tag <td>", "tag <div>"}},
		{"javascript link", `<a href="javascript:alert(1)">x</a>`, []string{"href on <a> that is not an absolute http or https URL"}},
		{"relative link", `<a href="/incidents/1">x</a>`, []string{"href on <a> that is not an absolute http or https URL"}},
		{"mailto link", `<a href="mailto:ot@example.com">x</a>`, []string{"href on <a> that is not an absolute http or https URL"}},
		{"attributes", `<p style="color:red" class="x">a</p><a href="https://x.example" target="_blank">b</a>`, []string{"attribute style on <p>", "attribute class on <p>", "attribute target on <a>"}},
		{"event handler", `<b onclick="x()">b</b>`, []string{"attribute onclick on <b>"}},
		{"image", `<img src="https://x.example/a.png">`, []string{"tag <img>"}},
		{"comment", `<!-- hidden --><p>x</p>`, []string{"HTML comment <!-- -->"}},
		{"headings", `<h1>Title</h1>`, []string{"tag <h1>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, CommentMarkupProblems(tc.message))
		})
	}
}

func TestRenderComment(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, message, want string
	}{
		{"text", "a < b & c", "a &lt; b &amp; c"},
		{"entities stay text", "&lt;script&gt;", "&lt;script&gt;"},
		{"allowed kept", "<p><b>x</b><br/>y</p>", "<p><b>x</b><br>y</p>"},
		{"script shown as text", "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"attributes dropped", `<p style="x" onclick="y">a</p>`, "<p>a</p>"},
		{"safe link", `<a href="https://x.example/?a=1&b=2" onclick="z">l</a>`, `<a href="https://x.example/?a=1&amp;b=2" rel="noopener noreferrer nofollow">l</a>`},
		{"unsafe link loses its href", `<a href="javascript:alert(1)">l</a>`, "<a>l</a>"},
		{"unclosed tags closed", "<ul><li><b>x", "<ul><li><b>x</b></li></ul>"},
		{"stray end tag shown", "x</b>", "x&lt;/b&gt;"},
		{"end tag closes the inner ones", "<p><b>x</p>y", "<p><b>x</b></p>y"},
		{"img escaped", `<img src=x onerror=alert(1)>`, "&lt;img src=x onerror=alert(1)&gt;"},
		{"comment escaped", "<!--x-->", "&lt;!--x--&gt;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, string(renderComment(tc.message)))
		})
	}
}
