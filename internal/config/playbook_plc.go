package config

import "time"

// PLCReprogramming configures the unplanned-PLC-reprogramming → email playbook.
type PLCReprogramming struct {
	AlertTitles   []string      `yaml:"alertTitles" doc:"Alert titles (without the (MDIoT) prefix) that mean a PLC was reprogrammed." default:"Unauthorized PLC Programming,Unauthorized PLC Program Upload,Unauthorized PLC Configuration Write,PLC Operating Mode Changed,Firmware Change Detected,Firmware Version Changed,S7 Plus PLC Firmware Changed,Beckhoff Software Changed"`
	AnswerTimeout time.Duration `yaml:"answerTimeout" doc:"How long to wait for the engineers' answer before escalating." default:"30m"`
}

func (p *PLCReprogramming) validate(errs *Errors) {
	if p.AnswerTimeout <= 0 {
		errs.add("playbooks.plcReprogramming.answerTimeout", "must be positive")
	}
}
