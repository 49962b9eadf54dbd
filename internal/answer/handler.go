package answer

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/internal/safetext"

	"github.com/interlock-soar/interlock/workflows"
)

// PathPrefix is where the handler is mounted and what every answer link starts with (after the
// intake's public URL): a link is PathPrefix + token.
const PathPrefix = "/v1/answers/"

// Via is how Answer.Via names answers that came through these links.
const Via = "email-link"

// Errors an Answerer returns for the outcomes the page explains. TemporalAnswerer maps Temporal's
// errors to them; another Answerer (a test fake) returns them directly.
var (
	// ErrAlreadyAnswered: the run took an earlier answer (from this link, another, or the UI).
	ErrAlreadyAnswered = errors.New("the run already has an answer")
	// ErrOutdated: the link came from an older round's email, or from another run of the playbook.
	ErrOutdated = errors.New("the link is outdated")
	// ErrRunClosed: the run is no longer running (finished, timed out, terminated) or never existed.
	ErrRunClosed = errors.New("the run has finished")
	// ErrUnavailable: Temporal could not be reached; trying again later may work.
	ErrUnavailable = errors.New("temporal is unavailable")
)

// Answerer hands an answer to the run waiting for it.
type Answerer interface {
	Answer(ctx context.Context, workflowID string, ans workflows.Answer) error
}

// Handler serves the one-click answer links:
//
//	GET  /v1/answers/{token}  verifies the token and shows a confirmation page with a POST form.
//	                          It never changes anything: mail scanners and link previewers fetch
//	                          links before (or instead of) people, and must not answer for them.
//	POST /v1/answers/{token}  verifies again and hands the answer to the run.
//
// The token is the only credential; the routes need no bearer token. There is no CSRF token either,
// deliberately: no cookie or other ambient credential exists for a cross-site request to ride on. A
// forged cross-site POST would have to carry the token itself, and whoever holds the token can
// answer anyway — exactly the power the email gives its recipients. Referrer-Policy no-referrer keeps
// the token out of Referer headers, and Cache-Control no-store out of shared caches.
//
// Mount it at PathPrefix without stripping the prefix.
type Handler struct {
	signer  *Signer
	answers Answerer
	logger  *slog.Logger
	// timeout bounds the wait for the run to take the answer.
	timeout time.Duration
}

var _ http.Handler = (*Handler)(nil)

// NewHandler makes the handler. logger may be nil.
func NewHandler(s *Signer, a Answerer, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{signer: s, answers: a, logger: logger, timeout: 30 * time.Second}
}

// maxFormBytes bounds a POST body: the form holds at most a short comment.
const maxFormBytes = 16 << 10

// maxCommentRunes caps the optional comment an engineer may add.
const maxCommentRunes = 1000

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	token, ok := strings.CutPrefix(r.URL.Path, PathPrefix)
	if !ok || token == "" || strings.Contains(token, "/") {
		h.page(w, http.StatusNotFound, pageNotFound, nil)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.confirm(w, r, token)
	case http.MethodPost:
		h.record(w, r, token)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		h.page(w, http.StatusMethodNotAllowed, pageMethod, nil)
	}
}

func (h *Handler) confirm(w http.ResponseWriter, r *http.Request, token string) {
	c, ok := h.verify(w, r, token)
	if !ok {
		return
	}
	h.page(w, http.StatusOK, pageConfirm, viewOf(c))
}

func (h *Handler) record(w http.ResponseWriter, r *http.Request, token string) {
	c, ok := h.verify(w, r, token)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.page(w, http.StatusBadRequest, pageBadForm, viewOf(c))
		return
	}
	ans := workflows.Answer{
		Decision: c.Decision,
		By:       c.Recipient,
		Via:      Via,
		Comment:  safetext.Block(r.PostForm.Get("comment"), maxCommentRunes),
		Link:     c.Link(),
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	err := h.answers.Answer(ctx, c.WorkflowID, ans)
	log := h.logger.With("workflowId", c.WorkflowID, "incidentId", c.IncidentID, "decision", c.Decision, "round", c.Round)
	switch {
	case err == nil:
		log.InfoContext(r.Context(), "answer recorded", "by", c.Recipient)
		h.page(w, http.StatusOK, pageRecorded, viewOf(c))
	case errors.Is(err, ErrAlreadyAnswered):
		log.InfoContext(r.Context(), "answer refused: run already answered")
		h.page(w, http.StatusConflict, pageAlreadyAnswered, viewOf(c).withRefusal(err))
	case errors.Is(err, ErrOutdated):
		log.InfoContext(r.Context(), "answer refused: outdated link")
		h.page(w, http.StatusConflict, pageOutdated, viewOf(c).withRefusal(err))
	case errors.Is(err, ErrRunClosed):
		log.InfoContext(r.Context(), "answer refused: run closed")
		h.page(w, http.StatusConflict, pageRunClosed, viewOf(c))
	case errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded):
		log.WarnContext(r.Context(), "answer not recorded: temporal unavailable", "err", err)
		w.Header().Set("Retry-After", "30")
		h.page(w, http.StatusServiceUnavailable, pageUnavailable, viewOf(c))
	default:
		log.ErrorContext(r.Context(), "answer not recorded", "err", err)
		h.page(w, http.StatusInternalServerError, pageFailed, viewOf(c))
	}
}

// verify checks the token and writes the error page when it fails. The token itself is never
// logged: it is a credential until it expires.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request, token string) (Claims, bool) {
	c, err := h.signer.Verify(token)
	switch {
	case err == nil:
		return c, true
	case errors.Is(err, ErrExpired):
		h.logger.InfoContext(r.Context(), "answer link expired", "workflowId", c.WorkflowID, "expired", c.Expires)
		h.page(w, http.StatusGone, pageExpired, viewOf(c))
	case errors.Is(err, ErrBadSignature):
		h.logger.WarnContext(r.Context(), "answer link with a bad signature", "remote", r.RemoteAddr)
		h.page(w, http.StatusForbidden, pageForged, nil)
	default:
		h.logger.InfoContext(r.Context(), "malformed answer link", "remote", r.RemoteAddr, "err", err)
		h.page(w, http.StatusBadRequest, pageMalformed, nil)
	}
	return Claims{}, false
}

func (h *Handler) page(w http.ResponseWriter, status int, p pageKind, v *view) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := renderPage(w, p, v); err != nil {
		h.logger.Error("render answer page", "page", p, "err", err)
	}
}

// setSecurityHeaders locks the pages down: nothing loads but inline style, nothing may frame them,
// no Referer carries the token anywhere, nothing caches a page whose URL is a credential.
func setSecurityHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Robots-Tag", "noindex, nofollow")
}
