package answer

import (
	"errors"
	"time"

	"github.com/interlock-soar/interlock/internal/config"
)

// SignerFromConfig makes the signer of the one-click answer links; the worker signs, the intake
// verifies, so both need the same intake.answerSecret.
func SignerFromConfig(cfg config.Intake) (*Signer, error) {
	if !cfg.AnswerSecret.IsSet() {
		return nil, errors.New("intake.answerSecret is not set (INTERLOCK_INTAKE_ANSWER_SECRET or its _FILE): the answer links of PLC notices are signed with it")
	}
	return NewSigner([]byte(cfg.AnswerSecret.Value()), cfg.AnswerTTL, time.Now)
}
