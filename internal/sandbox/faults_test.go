package sandbox

import (
	"sync"
	"testing"
	"time"
)

func TestFaultsCountDown(t *testing.T) {
	var f Faults
	f.Throttle("SendCommand", 2)
	f.ServerError("SendCommand", 1)
	f.Latency("SendCommand", time.Second)

	want := []faultKind{faultThrottle, faultThrottle, faultServerError, faultNone, faultNone}
	for i, kind := range want {
		got, delay := f.arrive("SendCommand")
		if got != kind {
			t.Errorf("call %d: fault %d, want %d", i+1, got, kind)
		}
		if delay != time.Second {
			t.Errorf("call %d: delay %v, want 1s", i+1, delay)
		}
	}
	if got := f.Calls("SendCommand"); got != len(want) {
		t.Errorf("Calls = %d, want %d", got, len(want))
	}
	if got, delay := f.arrive("ListCommands"); got != faultNone || delay != 0 {
		t.Errorf("another operation got fault %d and delay %v", got, delay)
	}
}

func TestFaultsSwitchOff(t *testing.T) {
	var f Faults
	f.Throttle("GetObject", 3)
	f.Throttle("GetObject", 0)
	f.ServerError("GetObject", 3)
	f.ServerError("GetObject", -1)
	f.Latency("GetObject", time.Minute)
	f.Latency("GetObject", 0)
	if got, delay := f.arrive("GetObject"); got != faultNone || delay != 0 {
		t.Errorf("switched-off faults still apply: fault %d, delay %v", got, delay)
	}

	f.IMDSTokenNoAnswer(true)
	if !f.tokenNoAnswer() {
		t.Error("IMDSTokenNoAnswer(true) did not take")
	}
	f.IMDSTokenNoAnswer(false)
	if f.tokenNoAnswer() {
		t.Error("IMDSTokenNoAnswer(false) did not take")
	}
}

func TestFaultsConcurrentUse(t *testing.T) {
	var f Faults
	f.Throttle("AssumeRole", 100)
	var wg sync.WaitGroup
	var mu sync.Mutex
	throttled := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				kind, _ := f.arrive("AssumeRole")
				f.Latency("Other", time.Millisecond)
				_ = f.Calls("AssumeRole")
				if kind == faultThrottle {
					mu.Lock()
					throttled++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if throttled != 100 {
		t.Errorf("%d calls throttled, want exactly 100", throttled)
	}
	if got := f.Calls("AssumeRole"); got != 400 {
		t.Errorf("Calls = %d, want 400", got)
	}
}
