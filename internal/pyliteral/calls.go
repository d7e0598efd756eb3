package pyliteral

import (
	"encoding/json"
	"math/big"
	"strconv"
	"time"
)

// The callables and names that Parse interprets, each under the spellings
// that repr() and hand-written Python use for it: the standard library's
// datetime module and python-dateutil, which boto3 uses for its timestamps.
var (
	datetimeNames  = nameSet("datetime.datetime", "datetime")
	timedeltaNames = nameSet("datetime.timedelta", "timedelta")
	timezoneNames  = nameSet("datetime.timezone", "timezone")
	tzutcNames     = nameSet("tzutc", "tz.tzutc", "dateutil.tz.tzutc", "dateutil.tz.tz.tzutc")
	tzoffsetNames  = nameSet("tzoffset", "tz.tzoffset", "dateutil.tz.tzoffset", "dateutil.tz.tz.tzoffset")

	utcNames = map[string]zone{
		"datetime.timezone.utc": {}, "timezone.utc": {},
		"datetime.UTC": {}, "UTC": {},
		"tz.UTC": {}, "dateutil.tz.UTC": {},
		"pytz.utc": {}, "pytz.UTC": {},
	}

	// Time zones whose offset depends on the machine or on a zone database,
	// so a time given in them cannot be mapped to UTC exactly.
	variableOffsetZones = nameSet(
		"tzlocal", "tz.tzlocal", "dateutil.tz.tzlocal", "dateutil.tz.tz.tzlocal",
		"tzwinlocal", "tz.tzwinlocal", "dateutil.tz.tzwinlocal",
		"tzfile", "tz.tzfile", "dateutil.tz.tzfile",
		"tzstr", "tz.tzstr", "dateutil.tz.tzstr",
		"tzwin", "tz.tzwin", "dateutil.tz.tzwin",
		"gettz", "tz.gettz", "dateutil.tz.gettz",
		"ZoneInfo", "zoneinfo.ZoneInfo", "pytz.timezone",
	)
)

func nameSet(names ...string) map[string]bool {
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	return set
}

// zone is a tzinfo with a fixed offset from UTC, in seconds east of UTC.
// It exists only while the arguments of a call are interpreted.
type zone struct{ offset int }

// duration is a timedelta in microseconds. It exists only while the
// arguments of a call are interpreted.
type duration struct{ micros int64 }

// checkPublic rejects the values that may appear only as arguments of a call.
func checkPublic(v any, offset int) error {
	switch v.(type) {
	case zone, duration:
		return &SyntaxError{Offset: offset, Msg: "a timezone or timedelta is accepted only as an argument of datetime.datetime, datetime.timezone or tzoffset"}
	}
	return nil
}

// argument is one argument of a call, with its offset for errors.
type argument struct {
	value  any
	offset int
}

type callArgs struct {
	positional []argument
	keyword    map[string]argument
}

// parseCall parses the arguments of a call to name, which starts at start,
// and interprets the call. p.pos is at the opening parenthesis.
func (p *parser) parseCall(name string, start int) (any, error) {
	if err := p.enter(p.pos); err != nil {
		return nil, err
	}
	defer p.leave()

	known := datetimeNames[name] || timedeltaNames[name] || timezoneNames[name] || tzutcNames[name] || tzoffsetNames[name]
	if variableOffsetZones[name] {
		return nil, p.errorf(start, "%s() depends on the machine that printed it, so the time it qualifies cannot be mapped to UTC exactly; give the time in UTC", name)
	}
	if !known {
		return nil, p.errorf(start, "unsupported call; the only calls accepted are datetime.datetime, datetime.timedelta, datetime.timezone, tzutc and tzoffset")
	}

	args, err := p.parseArgs()
	if err != nil {
		return nil, err
	}

	switch {
	case datetimeNames[name]:
		return p.makeDatetime(start, args)
	case timedeltaNames[name]:
		return p.makeTimedelta(start, args)
	case timezoneNames[name]:
		return p.makeTimezone(start, args)
	case tzutcNames[name]:
		if len(args.positional) > 0 || len(args.keyword) > 0 {
			return nil, p.errorf(start, "tzutc() takes no arguments")
		}
		return zone{}, nil
	default: // tzoffset
		return p.makeTzoffset(start, args)
	}
}

// parseArgs parses "(a, b, name=c)" at p.pos, including both parentheses.
func (p *parser) parseArgs() (callArgs, error) {
	open := p.pos
	p.pos++ // '('
	args := callArgs{keyword: map[string]argument{}}
	for {
		p.skipSpace()
		if p.peek() == ')' {
			p.pos++
			return args, nil
		}

		// A keyword argument is a plain name followed by a single '='.
		argStart := p.pos
		keyword := ""
		if name := p.readDottedName(); name != "" {
			p.skipSpace()
			if p.peek() == '=' && !(p.pos+1 < len(p.src) && p.src[p.pos+1] == '=') {
				keyword = name
				p.pos++
				p.skipSpace()
			} else {
				p.pos = argStart
			}
		}

		valueStart := p.pos
		v, err := p.parseValue()
		if err != nil {
			return callArgs{}, err
		}
		arg := argument{value: v, offset: valueStart}
		switch {
		case keyword != "":
			if _, dup := args.keyword[keyword]; dup {
				return callArgs{}, p.errorf(argStart, "keyword argument repeated")
			}
			args.keyword[keyword] = arg
		case len(args.keyword) > 0:
			return callArgs{}, p.errorf(argStart, "positional argument after a keyword argument")
		default:
			args.positional = append(args.positional, arg)
		}

		p.skipSpace()
		switch p.peek() {
		case ',':
			p.pos++
		case ')':
			p.pos++
			return args, nil
		default:
			return callArgs{}, p.errorf(p.pos, "expected ',' or ')' in the call that starts at offset %d, found %s", open, p.describe(p.pos))
		}
	}
}

// bind matches positional and keyword arguments to the parameter names in
// order, as Python does, and rejects unknown and repeated ones.
func (p *parser) bind(start int, callName string, args callArgs, params []string) (map[string]argument, error) {
	if len(args.positional) > len(params) {
		return nil, p.errorf(start, "%s takes at most %d arguments", callName, len(params))
	}
	bound := make(map[string]argument, len(params))
	for i, a := range args.positional {
		bound[params[i]] = a
	}
	for name, a := range args.keyword {
		known := false
		for _, param := range params {
			known = known || param == name
		}
		if !known {
			return nil, p.errorf(a.offset, "%s has no argument of this name", callName)
		}
		if _, dup := bound[name]; dup {
			return nil, p.errorf(a.offset, "%s got argument %s twice", callName, name)
		}
		bound[name] = a
	}
	return bound, nil
}

// intArg returns the integer value of the named argument, def when it is
// absent, and an error when it is not an integer in [min, max].
func (p *parser) intArg(callName string, bound map[string]argument, name string, def, min, max int64) (int64, error) {
	a, ok := bound[name]
	if !ok {
		return def, nil
	}
	num, isNumber := a.value.(json.Number)
	n, err := strconv.ParseInt(string(num), 10, 64)
	if !isNumber || err != nil || n < min || n > max {
		return 0, p.errorf(a.offset, "%s argument %s must be an integer from %d to %d", callName, name, min, max)
	}
	return n, nil
}

func (p *parser) makeDatetime(start int, args callArgs) (any, error) {
	const call = "datetime.datetime"
	params := []string{"year", "month", "day", "hour", "minute", "second", "microsecond", "tzinfo", "fold"}
	bound, err := p.bind(start, call, args, params)
	if err != nil {
		return nil, err
	}
	for _, required := range []string{"year", "month", "day"} {
		if _, ok := bound[required]; !ok {
			return nil, p.errorf(start, "%s needs the argument %s", call, required)
		}
	}

	var fields [7]int64
	limits := [7][2]int64{{1, 9999}, {1, 12}, {1, 31}, {0, 23}, {0, 59}, {0, 59}, {0, 999999}}
	for i, name := range params[:7] {
		fields[i], err = p.intArg(call, bound, name, 0, limits[i][0], limits[i][1])
		if err != nil {
			return nil, err
		}
	}
	// fold selects between two readings of a wall-clock time that a zone's
	// transition repeats. A fixed offset has no transitions, so only its
	// range is checked.
	if _, err := p.intArg(call, bound, "fold", 0, 0, 1); err != nil {
		return nil, err
	}

	tzArg, ok := bound["tzinfo"]
	if !ok || tzArg.value == nil {
		return nil, p.errorf(start, "%s has no tzinfo, so the UTC time is unknown; add tzinfo=tzutc() or give the time in UTC", call)
	}
	z, ok := tzArg.value.(zone)
	if !ok {
		return nil, p.errorf(tzArg.offset, "%s argument tzinfo must be tzutc(), datetime.timezone.utc or a fixed offset", call)
	}

	year, month, day := int(fields[0]), time.Month(fields[1]), int(fields[2])
	wall := time.Date(year, month, day, int(fields[3]), int(fields[4]), int(fields[5]), int(fields[6])*1000, time.UTC)
	if wall.Day() != day {
		return nil, p.errorf(start, "%s day %d does not exist in month %d of year %d", call, day, month, year)
	}
	return wall.Add(-time.Duration(z.offset) * time.Second), nil
}

func (p *parser) makeTimedelta(start int, args callArgs) (any, error) {
	const call = "datetime.timedelta"
	params := []string{"days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks"}
	micros := []int64{86_400_000_000, 1_000_000, 1, 1000, 60_000_000, 3_600_000_000, 604_800_000_000}
	bound, err := p.bind(start, call, args, params)
	if err != nil {
		return nil, err
	}

	// Python limits a timedelta to 999999999 days. The sum is done in big
	// integers so that no argument can overflow it.
	total := new(big.Int)
	for i, name := range params {
		n, err := p.intArg(call, bound, name, 0, -1e15, 1e15)
		if err != nil {
			return nil, err
		}
		total.Add(total, new(big.Int).Mul(big.NewInt(n), big.NewInt(micros[i])))
	}
	limit := new(big.Int).Mul(big.NewInt(999_999_999), big.NewInt(micros[0]))
	if total.CmpAbs(limit) > 0 {
		return nil, p.errorf(start, "%s is longer than 999999999 days", call)
	}
	return duration{micros: total.Int64()}, nil
}

func (p *parser) makeTimezone(start int, args callArgs) (any, error) {
	const call = "datetime.timezone"
	bound, err := p.bind(start, call, args, []string{"offset", "name"})
	if err != nil {
		return nil, err
	}
	if err := p.checkZoneName(call, bound, false); err != nil {
		return nil, err
	}
	a, ok := bound["offset"]
	if !ok {
		return nil, p.errorf(start, "%s needs the argument offset", call)
	}
	d, ok := a.value.(duration)
	if !ok {
		return nil, p.errorf(a.offset, "%s argument offset must be a datetime.timedelta", call)
	}
	return p.zoneOf(call, a.offset, d.micros)
}

func (p *parser) makeTzoffset(start int, args callArgs) (any, error) {
	const call = "tzoffset"
	bound, err := p.bind(start, call, args, []string{"name", "offset"})
	if err != nil {
		return nil, err
	}
	if err := p.checkZoneName(call, bound, true); err != nil {
		return nil, err
	}
	a, ok := bound["offset"]
	if !ok {
		return nil, p.errorf(start, "%s needs the argument offset", call)
	}
	switch v := a.value.(type) {
	case duration:
		return p.zoneOf(call, a.offset, v.micros)
	case json.Number:
		seconds, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil || seconds <= -86400 || seconds >= 86400 {
			return nil, p.errorf(a.offset, "%s argument offset must be a whole number of seconds, less than a day either way", call)
		}
		return zone{offset: int(seconds)}, nil
	default:
		return nil, p.errorf(a.offset, "%s argument offset must be a number of seconds or a datetime.timedelta", call)
	}
}

// checkZoneName checks the optional name argument of a fixed-offset zone:
// a string, or None when allowNone. The name does not change the offset.
func (p *parser) checkZoneName(call string, bound map[string]argument, allowNone bool) error {
	a, ok := bound["name"]
	if !ok {
		return nil
	}
	if _, isString := a.value.(string); isString || (a.value == nil && allowNone) {
		return nil
	}
	return p.errorf(a.offset, "%s argument name must be a string", call)
}

// zoneOf returns the zone of a timedelta offset, which must be less than a
// day either way and a whole number of seconds.
func (p *parser) zoneOf(call string, offset int, micros int64) (any, error) {
	const day = 86_400_000_000
	if micros <= -day || micros >= day || micros%1_000_000 != 0 {
		return nil, p.errorf(offset, "%s offset must be a whole number of seconds, less than a day either way", call)
	}
	return zone{offset: int(micros / 1_000_000)}, nil
}
