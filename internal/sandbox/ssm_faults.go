package sandbox

import "time"

// defaultInvocationDelay is how long a new invocation stays invisible after
// SendCommand. AWS documents Run Command as eventually consistent, and right
// after SendCommand GetCommandInvocation returns InvocationDoesNotExist.
const defaultInvocationDelay = 500 * time.Millisecond

// ssmKnobs are the SSM behaviours that tests switch. They are guarded by
// ssmState.mu.
type ssmKnobs struct {
	invocationDelay time.Duration
	hangCommands    bool
	pagePlans       map[string][]int
	repeatPages     map[string]map[int]bool
}

func newSSMKnobs() ssmKnobs {
	return ssmKnobs{
		invocationDelay: defaultInvocationDelay,
		pagePlans:       map[string][]int{},
		repeatPages:     map[string]map[int]bool{},
	}
}

// SetInvocationDelay sets how long each new invocation stays invisible
// after SendCommand: until then GetCommandInvocation returns
// InvocationDoesNotExist and ListCommandInvocations leaves it out. The
// default is 500 ms. It applies to commands sent afterwards.
func (s *Server) SetInvocationDelay(d time.Duration) {
	s.ssm.mu.Lock()
	defer s.ssm.mu.Unlock()
	s.ssm.knobs.invocationDelay = max(d, 0)
}

// HangCommands makes the invocations of commands sent afterwards stay
// InProgress, without running anything, until they are cancelled or their
// execution timeout passes.
func (s *Server) HangCommands(on bool) {
	s.ssm.mu.Lock()
	defer s.ssm.mu.Unlock()
	s.ssm.knobs.hangCommands = on
}

// SetPagePlan makes the first pages of a paged operation ("ListCommands",
// "ListDocuments", "ListCommandInvocations", ...) have exactly the given
// sizes, whatever MaxResults requests. A page of size zero returns no items but
// still carries a NextToken while items remain. Pages after the plan are
// sized by MaxResults again. A nil or empty plan removes it.
func (s *Server) SetPagePlan(operation string, sizes []int) {
	s.ssm.mu.Lock()
	defer s.ssm.mu.Unlock()
	if len(sizes) == 0 {
		delete(s.ssm.knobs.pagePlans, operation)
		return
	}
	plan := make([]int, len(sizes))
	for i, n := range sizes {
		plan[i] = max(n, 0)
	}
	s.ssm.knobs.pagePlans[operation] = plan
}

// RepeatNextToken makes one page of a paged operation return the same
// NextToken that the client sent, as a buggy service would, so that a client
// that follows tokens blindly loops. Pages count from 0, the call without a
// token, so page must be 1 or more to have a token to repeat.
func (s *Server) RepeatNextToken(operation string, page int) {
	s.ssm.mu.Lock()
	defer s.ssm.mu.Unlock()
	pages := s.ssm.knobs.repeatPages[operation]
	if pages == nil {
		pages = map[int]bool{}
		s.ssm.knobs.repeatPages[operation] = pages
	}
	pages[page] = true
}

func (k *ssmKnobs) plannedPageSize(operation string, page int) (int, bool) {
	plan := k.pagePlans[operation]
	if page < len(plan) {
		return plan[page], true
	}
	return 0, false
}

func (k *ssmKnobs) repeatsToken(operation string, page int) bool {
	return k.repeatPages[operation][page]
}
