package incident

// PLCChangeTitles returns the Defender for IoT alert titles that mean a controller's program,
// configuration, operating mode or firmware changed (sentinel-d4iot.md §5): the rules' plcChangeTitles
// variable and the default of playbooks.plcReprogramming.alertTitles. "PLC Program Update" is
// deliberately absent: it is a sensor event title, never an alert title. Each call returns a new slice,
// so no caller can change another's list.
func PLCChangeTitles() []string {
	return []string{
		"Unauthorized PLC Programming",
		"Unauthorized PLC Program Upload",
		"Unauthorized PLC Configuration Write",
		"PLC Operating Mode Changed",
		"Firmware Change Detected",
		"Firmware Version Changed",
		"S7 Plus PLC Firmware Changed",
		"Beckhoff Software Changed",
	}
}
