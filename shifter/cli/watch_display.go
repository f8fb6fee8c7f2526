package cli

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// watchDisplay shows a watch as it goes.
type watchDisplay interface {
	// draw shows the snapshot at now, with the events that arrived since
	// the last draw.
	draw(s snapshot, fresh []rollout.Event, now time.Time) error
	// close leaves the output as a person expects to find it; it may be
	// called more than once.
	close()
}

// ANSI sequences of the terminal display.
const (
	hideCursor = "\x1b[?25l"
	showCursor = "\x1b[?25h"
	clearLine  = "\r\x1b[2K"
	clearBelow = "\x1b[J"
)

// terminal returns the file descriptor of w if it is a terminal.
func terminal(w io.Writer) (int, bool) {
	f, ok := w.(interface{ Fd() uintptr })
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

// screen redraws one frame in place on a terminal: it moves the cursor back
// up over the last frame and writes the new one over it, in one write so
// the terminal never shows half a frame.
type screen struct {
	w      io.Writer
	fd     int
	events int
	// recent are the last events shown, lines the height of the last frame.
	recent []rollout.Event
	lines  int
	hidden bool
}

func (s *screen) draw(snap snapshot, fresh []rollout.Event, now time.Time) error {
	s.recent = append(s.recent, fresh...)
	if len(s.recent) > s.events {
		s.recent = s.recent[len(s.recent)-s.events:]
	}
	lines := frame(snap, s.recent, now)
	// A line wider than the terminal would wrap, and a frame taller than
	// it would scroll: either way moving up s.lines would land elsewhere.
	width, height, err := term.GetSize(s.fd)
	if err == nil && height > 1 && len(lines) > height-1 {
		lines = lines[:height-1]
	}

	var b bytes.Buffer
	if !s.hidden {
		b.WriteString(hideCursor)
		s.hidden = true
	}
	if s.lines > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", s.lines)
	}
	for _, line := range lines {
		b.WriteString(clearLine)
		b.WriteString(fit(line, width))
		b.WriteByte('\n')
	}
	b.WriteString(clearBelow) // what a taller frame left
	s.lines = len(lines)
	_, err = s.w.Write(b.Bytes())
	return err
}

func (s *screen) close() {
	if s.hidden {
		_, _ = io.WriteString(s.w, showCursor) // nothing to do if the terminal is gone
		s.hidden = false
	}
}

// fit cuts line to fewer runes than width (0: unknown, no cut): writing
// the last column makes some terminals wrap.
func fit(line string, width int) string {
	if width <= 1 || utf8.RuneCountInString(line) < width {
		return line
	}
	runes := []rune(line)
	return string(runes[:width-2]) + "…"
}

// frame is the terminal display: the headline, a traffic bar per version,
// the environments and the latest events.
//
//	web: shifting · deploy v1 → v2, step 2/3 at 50% · next step in 4s
//
//	  v1  ██████████░░░░░░░░░░   50%
//	  v2  ██████████░░░░░░░░░░   50%
//
//	  ENVIRONMENT  VERSION  PHASE    WEIGHT  HEALTHY  IN SERVICE
//	  web-1        v1       serving  50%     1/1      1
//	  web-2        v2       serving  50%     1/1      1
//
//	  12:00:04  #14   step.applied          v2       ...
func frame(s snapshot, recent []rollout.Event, now time.Time) []string {
	st := s.view.Status
	lines := []string{headline(s, now, dueIn)}
	if s.unreachable != nil {
		lines = append(lines, "  cannot reach the shifter, retrying: "+oneLine(explain(s.unreachable)))
	}
	if o := st.Override; o != nil {
		lines = append(lines, "  ! override: "+overrideLine(o, now))
	}
	for _, c := range conditionLines(st, now) {
		lines = append(lines, "  ! "+c)
	}

	if sh := shares(st); len(sh) > 0 {
		lines = append(lines, "")
		width := 0
		for _, v := range sh {
			width = max(width, utf8.RuneCountInString(v.version))
		}
		for _, v := range sh {
			lines = append(lines, fmt.Sprintf("  %-*s  %s  %3d%%%s", width, v.version, bar(v.weight), v.weight, v.observedLabel()))
		}
		if o := observation(st); o != nil {
			lines = append(lines, "  "+observedLine(o))
		}
	}

	if len(st.Environments) > 0 {
		var b strings.Builder
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  ENVIRONMENT\tVERSION\tSPEC\tPHASE\tWEIGHT\tHEALTHY\tIN SERVICE")
		for _, e := range st.Environments {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d%%\t%d/%d\t%d\n", e.ID, e.Version, specRevision(e.SpecRevision), e.Phase, e.Weight, e.Healthy, e.Capacity, e.InService)
		}
		_ = tw.Flush() // a strings.Builder does not fail
		lines = append(lines, "")
		lines = append(lines, strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")...)
	}

	if len(recent) > 0 {
		lines = append(lines, "")
		for _, ev := range recent {
			lines = append(lines, "  "+shortEventLine(ev))
		}
	}
	return lines
}

// headline is where the endpoint stands in one line:
// "web: shifting · deploy v1 → v2, step 1/3 at 10% · next step in 4s".
func headline(s snapshot, now time.Time, style dueStyle) string {
	st := s.view.Status
	parts := []string{s.view.Endpoint.Name + ": " + st.State}
	r := st.Rollout
	switch {
	case inFlight(r):
		parts = append(parts, rolloutLine(r), waiting(st, now, style))
	case s.release != nil && s.release.Status.State == rollout.StatePending:
		parts = append(parts, "release "+s.release.Release.Version+" declared, waiting for the shifter to start its rollout")
	case r != nil:
		last := rolloutLine(r) + ": " + string(r.Phase)
		if r.Reason != "" {
			last += " (" + oneLine(r.Reason) + ")"
		}
		parts = append(parts, last)
	}
	return strings.Join(parts, " · ")
}

// logLines prints a line for every change, for pipes and CI logs: the
// events as they arrive, and the headline with the traffic split whenever
// it reads differently. Due times are times of day, not countdowns, so a
// line changes only when something happened.
type logLines struct {
	w           io.Writer
	last        string
	unreachable string
}

func (l *logLines) draw(s snapshot, fresh []rollout.Event, now time.Time) error {
	var b strings.Builder
	for _, ev := range fresh {
		fmt.Fprintf(&b, "%s event %s\n", clock(ev.Time), shortEvent(ev))
	}
	unreachable := ""
	if s.unreachable != nil {
		unreachable = oneLine(explain(s.unreachable))
	}
	if unreachable != l.unreachable && unreachable != "" {
		fmt.Fprintf(&b, "%s cannot reach the shifter, retrying: %s\n", clock(now), unreachable)
	}
	l.unreachable = unreachable
	if line := headline(s, now, dueAt) + " · traffic " + split(shares(s.view.Status)); line != l.last {
		fmt.Fprintf(&b, "%s %s\n", clock(now), line)
		l.last = line
	}
	_, err := io.WriteString(l.w, b.String())
	return err
}

func (l *logLines) close() {}

// shortEvent is an event in a log line that has its time already:
// "#14 step.applied v2: traffic 50% to v2".
func shortEvent(ev rollout.Event) string {
	s := fmt.Sprintf("#%d %s", ev.Seq, ev.Type)
	if ev.Version != "" {
		s += " " + ev.Version
	}
	return s + ": " + oneLine(ev.Message)
}
