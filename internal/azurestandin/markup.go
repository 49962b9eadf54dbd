package azurestandin

import (
	"html/template"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/html"
)

// Sentinel shows incident comments as HTML, but only a small set of it. Interlock keeps to the tags
// below (and to http/https links), so what it writes looks the same in the portal as in its tests.

// allowedTags are the tags Interlock's comments may use; <a> may carry an http or https href.
var allowedTags = map[string]bool{
	"p": true, "br": true, "b": true, "strong": true, "i": true, "em": true, "u": true,
	"ul": true, "ol": true, "li": true, "a": true, "code": true, "pre": true,
}

// CommentMarkupProblems lists the tags and attributes of an incident comment that Sentinel's comment
// renderer would not show (Interlock keeps to: p br b strong i em u ul ol li a[href https/http] code
// pre), each once, in the order they first appear. Empty means the comment is fine.
func CommentMarkupProblems(message string) []string {
	var problems []string
	add := func(p string) {
		if !slices.Contains(problems, p) {
			problems = append(problems, p)
		}
	}
	z := html.NewTokenizer(strings.NewReader(message))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return problems // io.EOF: the tokenizer reads from memory and has no other errors
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			tok := z.Token()
			if !allowedTags[tok.Data] {
				add("tag <" + tok.Data + ">")
				continue
			}
			if tt == html.EndTagToken {
				continue
			}
			for _, a := range tok.Attr {
				if tok.Data == "a" && a.Key == "href" && a.Namespace == "" {
					if _, ok := safeHref(a.Val); !ok {
						add("href on <a> that is not an absolute http or https URL")
					}
					continue
				}
				add("attribute " + a.Key + " on <" + tok.Data + ">")
			}
		case html.CommentToken:
			add("HTML comment <!-- -->")
		case html.DoctypeToken:
			add("doctype")
		}
	}
}

// safeHref returns the href to show, if it is an absolute http or https URL.
func safeHref(v string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(v))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	return u.String(), true
}

// renderComment turns a comment into the HTML the page shows, as Sentinel would: the allowed markup
// kept (links with a safe href only, no other attribute), everything else escaped so it shows as
// text, and every tag it opened closed again.
func renderComment(message string) template.HTML {
	var b strings.Builder
	var open []string
	z := html.NewTokenizer(strings.NewReader(message))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			for i := len(open) - 1; i >= 0; i-- {
				b.WriteString("</" + open[i] + ">")
			}
			// Every byte written is either escaped text or a tag built here without client attributes
			// (save an href that parsed as an http(s) URL and was escaped).
			return template.HTML(b.String())
		case html.TextToken:
			b.WriteString(html.EscapeString(string(z.Text())))
		case html.StartTagToken, html.SelfClosingTagToken:
			raw := string(z.Raw())
			tok := z.Token()
			if !allowedTags[tok.Data] {
				b.WriteString(html.EscapeString(raw))
				continue
			}
			if tok.Data == "br" {
				b.WriteString("<br>")
				continue
			}
			b.WriteString("<" + tok.Data)
			if tok.Data == "a" {
				for _, a := range tok.Attr {
					if a.Key == "href" && a.Namespace == "" {
						if href, ok := safeHref(a.Val); ok {
							b.WriteString(` href="` + html.EscapeString(href) + `" rel="noopener noreferrer nofollow"`)
						}
						break
					}
				}
			}
			b.WriteString(">")
			if tt == html.SelfClosingTagToken {
				b.WriteString("</" + tok.Data + ">")
			} else {
				open = append(open, tok.Data)
			}
		case html.EndTagToken:
			raw := string(z.Raw())
			name := z.Token().Data
			i := lastIndex(open, name)
			if name == "br" || !allowedTags[name] || i < 0 {
				b.WriteString(html.EscapeString(raw))
				continue
			}
			for j := len(open) - 1; j >= i; j-- {
				b.WriteString("</" + open[j] + ">")
			}
			open = open[:i]
		default: // comments, doctypes
			b.WriteString(html.EscapeString(string(z.Raw())))
		}
	}
}

func lastIndex(s []string, v string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == v {
			return i
		}
	}
	return -1
}
