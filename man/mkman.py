#!/usr/bin/env python3
"""mkman.py: build the man pages and the bash completion from one source
each plus what the programs say of themselves, so that every command and
every key is listed without a second list to keep up to date.

  mkman.py man SRC OUT --version V [--data NAME=FILE ...]
      SRC is a page in a small markup (below); @NAME@ on a line of its own
      is replaced by the section generated from the data file NAME:
        ctl-commands   man/cmdlist's output (the control command table)
        ctl-offline    `parcelsortctl --help` (its offline part)
        daemon-keys    `parcelsortd --keys` (the key table)
        help           a program's --help (its option lines)
  mkman.py completion OUT --data ctl-commands=FILE --data ctl-help=FILE

Markup: "% NAME SECTION" first; "# HEADING"; "## SUBHEADING"; a blank
line ends a paragraph; a line "TERM" then ": text" is a tagged paragraph;
lines indented by 4 spaces are shown as they are; **bold**, *italic* and
`bold` inline."""
import re
import sys


def esc(text):
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return text


def inline(text):
    text = esc(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"\\fB\1\\fR", text)
    text = re.sub(r"`(.+?)`", r"\\fB\1\\fR", text)
    text = re.sub(r"(?<![\w*])\*(\S.*?)\*(?!\w)", r"\\fI\1\\fR", text)
    if text.startswith(".") or text.startswith("'"):
        text = "\\&" + text
    return text


def form_markup(form):
    """A command form: its words bold, its placeholders italic."""
    out = []
    for tok in form.split():
        if re.fullmatch(r"[a-z][a-z0-9-]*", tok) or tok.startswith("--") \
                or tok == "|":
            out.append("\\fB%s\\fR" % esc(tok))
        else:
            out.append("\\fI%s\\fR" % esc(tok))
    return " ".join(out)


def help_entries(text, start=None, stop=None):
    """A --help text's entries (term, help) and headings, in order:
    ("entry", term, help) or ("text", line)."""
    lines = text.splitlines()
    if start:
        lines = lines[next(i for i, l in enumerate(lines) if l.startswith(start)) + 1:]
    if stop:
        lines = lines[:next((i for i, l in enumerate(lines) if l.startswith(stop)), len(lines))]
    items = []
    for line in lines:
        if not line.strip():
            continue
        m = re.match(r"^  (\S.*?)(?:\s{2,}(\S.*))?$", line)
        if m and not line.startswith("   "):
            items.append(["entry", m.group(1), m.group(2) or ""])
        elif line.startswith("   ") and items and items[-1][0] == "entry":
            items[-1][2] = (items[-1][2] + " " + line.strip()).strip()
        elif not line.startswith(" "):
            if items and items[-1][0] == "text" and not items[-1][1].endswith(":"):
                items[-1][1] += " " + line.strip()
            else:
                items.append(["text", line.strip()])
    return items


def render_entries(items, term_fmt):
    out = []
    pending = []
    for it in items:
        if it[0] == "text":
            out.append(".PP\n" + inline(it[1]))
            continue
        pending.append(it[1])
        if not it[2]:
            continue
        out.append(".TP\n" + term_fmt(pending[0]))
        for t in pending[1:]:
            out.append(".TQ\n" + term_fmt(t))
        out.append(inline(it[2]))
        pending = []
    for t in pending:
        out.append(".TP\n" + term_fmt(t) + "\n(see above)")
    return "\n".join(out)


def option_term(term):
    return " ".join("\\fB%s\\fR" % esc(w) if w.startswith("-") else
                    "\\fI%s\\fR" % esc(w) for w in term.split())


def gen_section(name, data):
    if name == "ctl-commands":
        out = []
        rows = [l.split("\t") for l in data.splitlines() if l]
        i = 0
        while i < len(rows):
            j = i
            while j + 1 < len(rows) and rows[j + 1][1] == rows[i][1]:
                j += 1
            out.append(".TP\n" + form_markup(rows[i][0]))
            for r in rows[i + 1:j + 1]:
                out.append(".TQ\n" + form_markup(r[0]))
            out.append(inline(rows[i][1]))
            i = j + 1
        return "\n".join(out)
    if name == "ctl-offline":
        items = help_entries(data, "Offline", "Exit codes")
        return render_entries(items, lambda t: option_term(t) if t.startswith("-")
                              else form_markup(t))
    if name == "daemon-keys":
        out = []
        for line in data.splitlines():
            key, opt, arg, dflt, live, help_ = line.split("\t")
            sec, k = key.split(".", 1)
            out.append(".TP\n\\fB\\-\\-%s\\fR \\fI%s\\fR" % (esc(opt), esc(arg)))
            extra = "Key: [%s] %s" % (sec, k)
            if dflt:
                extra += "; default %s" % dflt
            extra += "; %s." % ("applied live by SIGHUP" if live == "live"
                                else "a change needs a restart")
            out.append(inline(help_[0].upper() + help_[1:] + ". " + extra))
        return "\n".join(out)
    if name == "help":
        items = help_entries(data)
        items = [it for it in items if it[0] == "entry" or it[1].endswith(":")]
        return render_entries(items, option_term)
    raise SystemExit("mkman: unknown section @%s@" % name)


def man(src, out, version, data):
    lines = open(src).read().splitlines()
    m = re.match(r"^% (\S+) (\d)\s*$", lines[0])
    if not m:
        raise SystemExit("%s: first line must be '%% NAME SECTION'" % src)
    title, sec = m.groups()
    res = ['.\\" %s(%s): generated by man/mkman.py from %s; do not edit.'
           % (title, sec, src.split("/")[-1]),
           '.TH %s %s "" "parcelsort %s" "parcelsort"' % (title.upper(), sec, version)]
    para = []
    i = 1

    def flush():
        if para:
            res.append(".PP")
            res.append("\n".join(inline(p) for p in para))
            para.clear()
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if re.fullmatch(r"@[a-z-]+@", line.strip()):
            flush()
            name = line.strip()[1:-1]
            if name not in data:
                raise SystemExit("%s: @%s@ needs --data %s=FILE" % (src, name, name))
            res.append(gen_section(name, data[name]))
        elif line.startswith("## "):
            flush()
            res.append('.SS "%s"' % esc(line[3:]))
        elif line.startswith("# "):
            flush()
            res.append(".SH %s" % esc(line[2:].upper()))
        elif not line.strip():
            flush()
        elif line.startswith("    "):
            flush()
            res.append(".PP\n.RS 4\n.nf")
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                if lines[i].strip():
                    res.append(inline(lines[i][4:]))
                else:
                    res.append("")
                i += 1
            while res[-1] == "":
                res.pop()
            res.append(".fi\n.RE")
            continue
        elif nxt.startswith(": "):
            flush()
            res.append(".TP\n" + inline(line))
            i += 1
            body = [lines[i][2:]]
            while i + 1 < len(lines) and lines[i + 1].startswith("  ") and \
                    not lines[i + 1].startswith("    "):
                i += 1
                body.append(lines[i].strip())
            res.append("\n".join(inline(b) for b in body))
        else:
            para.append(line.strip())
        i += 1
    flush()
    with open(out, "w") as f:
        f.write("\n".join(res) + "\n")


COMPLETION = r'''# bash completion for parcelsortctl: generated by man/mkman.py from the
# control command table (ctl/ctl_commands.h) and parcelsortctl --help's
# offline commands; do not edit. Chute numbers and hub ids come from the
# running daemon when it answers within 2 s (parcelsortctl --json chute list,
# plan show, under timeout(1)).

_parcelsortctl_forms=(
@FORMS@
)
_parcelsortctl_fleet_opts="@FLEETOPTS@"

_parcelsortctl_daemon() {   # chutes|hubs, from the daemon at --ctl
    local -a ctl=()
    [[ -n $_ps_ctl ]] && ctl=(--ctl "$_ps_ctl")
    case $1 in
    chutes) timeout 2 parcelsortctl "${ctl[@]}" --json chute list 2>/dev/null |
                grep -o '"chute": *[0-9]*' | grep -o '[0-9]*$' ;;
    hubs) timeout 2 parcelsortctl "${ctl[@]}" plan show 2>/dev/null |
                awk '$1 == "hub" { print $2 }' ;;
    esac
}

_parcelsortctl() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local i=1 _ps_ctl=
    # options before the command
    while (( i < COMP_CWORD )); do
        case ${COMP_WORDS[i]} in
        --ctl) _ps_ctl=${COMP_WORDS[i+1]}; (( i += 2 )) ;;
        --json) (( i++ )) ;;
        *) break ;;
        esac
    done
    if [[ $prev == --ctl ]]; then
        COMPREPLY=($(compgen -f -- "$cur")); return
    fi
    local -a typed=("${COMP_WORDS[@]:i:COMP_CWORD-i}")
    if (( ${#typed[@]} == 0 )) && [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "--ctl --json --help --version" -- "$cur")); return
    fi
    local form words=() opts="" places=() f n k lit mlit=0
    for form in "${_parcelsortctl_forms[@]}"; do
        read -ra f <<<"$form"
        # the command's words: the leading lower-case ones
        lit=0
        while (( lit < ${#f[@]} )) && [[ ${f[lit]} =~ ^[a-z][a-z0-9-]*$ ]]; do (( lit++ )); done
        n=${#typed[@]}
        for (( k = 0; k < n && k < lit; k++ )); do
            [[ ${typed[k]} == "${f[k]}" ]] || continue 2
        done
        if (( n < lit )); then
            words+=("${f[n]}")
            continue
        fi
        # in the arguments of this form: its options and placeholders
        mlit=$lit
        for (( k = lit; k < ${#f[@]}; k++ )); do
            local t=${f[k]//[\[\]]/}
            if [[ $t == --* ]]; then opts+=" ${t%%=*}"
            elif [[ $t == *[A-Z]* && ${f[k]} != \[* ]]; then places+=("$t")
            fi
        done
        [[ ${f[0]} == fleet ]] && opts+=" $_parcelsortctl_fleet_opts"
    done
    if (( ${#words[@]} )); then
        COMPREPLY=($(compgen -W "${words[*]}" -- "$cur" | sort -u)); return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur")); return
    fi
    case $prev in
    --*) # an option's value: files for those that take one
        case $prev in
        --sign|--trust|--nats-ca|--nats-cert|--nats-key|--nats-creds|--nats-password-file|--root|--state-dir)
            COMPREPLY=($(compgen -f -- "$cur")) ;;
        esac
        return ;;
    esac
    # which placeholder: the count of arguments typed after the words
    local nargs=0 p
    for (( k = mlit; k < ${#typed[@]}; k++ )); do
        [[ ${typed[k]} == -* ]] && { (( k++ )); continue; }
        (( nargs++ ))
    done
    p=${places[nargs]:-${places[${#places[@]}-1]}}
    case $p in
    FILE*|OUT*) COMPREPLY=($(compgen -f -- "$cur")) ;;
    HUB*) COMPREPLY=($(compgen -W "$(_parcelsortctl_daemon hubs)" -- "$cur")) ;;
    N|N...) [[ ${typed[0]} == chute ]] &&
            COMPREPLY=($(compgen -W "$(_parcelsortctl_daemon chutes)" -- "$cur")) ;;
    esac
}
complete -F _parcelsortctl parcelsortctl
'''


def completion(out, data):
    forms = [l.split("\t")[0] for l in data["ctl-commands"].splitlines() if l]
    items = help_entries(data["ctl-help"], "Offline", "Exit codes")
    fleet_opts = []
    for it in items:
        if it[0] != "entry":
            continue
        if it[1].startswith("--"):
            fleet_opts += [w for w in it[1].split() if w.startswith("--")]
        else:
            forms.append(it[1])
    forms = [f.replace(" | ", " ") for f in forms]
    body = COMPLETION.replace("@FORMS@", "\n".join("    %s" % shq(f) for f in forms))
    body = body.replace("@FLEETOPTS@", " ".join(fleet_opts + ["--nats", "--json"]))
    with open(out, "w") as f:
        f.write(body)


def shq(s):
    return "'" + s.replace("'", "'\\''") + "'"


def main():
    args = sys.argv[1:]
    data = {}
    version = ""
    rest = []
    i = 0
    while i < len(args):
        if args[i] == "--data":
            name, path = args[i + 1].split("=", 1)
            data[name] = open(path).read()
            i += 2
        elif args[i] == "--version":
            version = args[i + 1]
            i += 2
        else:
            rest.append(args[i])
            i += 1
    if rest[:1] == ["man"] and len(rest) == 3:
        man(rest[1], rest[2], version, data)
    elif rest[:1] == ["completion"] and len(rest) == 2:
        completion(rest[1], data)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
