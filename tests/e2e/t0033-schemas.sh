# The models' JSON Schemas (`sweep models [MODEL] --json-schema`, built by
# models/schema.c for the API and MCP too) checked by a real validator (python's
# jsonschema, draft 2020-12): each is a valid schema, accepts the model's defaults and
# refuses unknown parameters; the chaos model's numeric parameters at, past and inside
# each bound are accepted or refused by the validator exactly as `sweep sim` accepts
# or refuses them (exit 2 with "expected"). The names schema lists the models, the
# aliases and their capitals, which sweep resolves: `sweep models DLA` is dla.
. "$SWEEP_SRC/tests/e2e/lib.sh"

PY=""
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import jsonschema' 2>/dev/null; then
        PY=$p
        break
    fi
done
[ -n "$PY" ] || fail "no python3 with jsonschema: install python3-jsonschema (scripts/install-deps.sh)"

expect_code 0 sweep models --json
models=$(jq -r '.[].name' "$T/out")
[ -n "$models" ] || fail "no models"
expect_code 0 sweep models --json-schema
cp "$T/out" names.json
for m in $models; do
    expect_code 0 sweep models "$m" --json-schema
    cp "$T/out" "schema-$m.json"
done
ok "sweep models MODEL --json-schema for every model"

# Every schema valid against the 2020-12 meta-schema; defaults accepted, unknown and
# wrongly typed parameters refused; every model name, alias and capital in the names.
"$PY" - names.json schema-*.json <<'EOF' || fail "schemas"
import json, sys
from jsonschema import Draft202012Validator as V

names = json.load(open(sys.argv[1]))
V.check_schema(names)
for n in ["dla", "DLA", "CCA", "BALLISTIC", "EDEN", "benchmark", "BENCHMARK"]:
    assert V(names).is_valid(n), n
for n in ["Dla", "dLA", "nope", 3]:
    assert not V(names).is_valid(n), n
for path in sys.argv[2:]:
    s = json.load(open(path))
    V.check_schema(s)
    v = V(s)
    props = s["properties"]
    defaults = {k: p["default"] for k, p in props.items() if "default" in p}
    assert v.is_valid(defaults), (path, list(v.iter_errors(defaults)))
    assert v.is_valid({}), path
    assert not v.is_valid({"no_such_parameter": 1}), path
    assert not v.is_valid([]), path
    for k, p in props.items():
        assert p.get("description"), (path, k)
        wrong = [] if p["type"] == "string" else ["x"]
        for w in wrong + [None, {}]:
            assert not v.is_valid({k: w}), (path, k, w)
EOF
ok "every schema is a valid draft 2020-12 schema that takes the model's defaults"

# Aliases of parameters: accepted alone, refused beside their parameter, as sweep does.
"$PY" - schema-particles.json <<'EOF' || fail "aliases"
import json, sys
from jsonschema import Draft202012Validator as V
v = V(json.load(open(sys.argv[1])))
assert v.is_valid({"semilla": 3})
assert not v.is_valid({"semilla": 3, "seed": 4})
assert v.is_valid({"algorithm": "python"})
assert not v.is_valid({"algorithm": "fortran"})
EOF
expect_code 2 sweep sim particles --params '{"semilla": 3, "seed": 4}'
expect_in "$T/err" "given twice"
ok "a parameter's alias: alone accepted, beside its parameter refused"

# chaos: the validator's verdict on each bound case against sweep sim's.
"$PY" - schema-chaos.json >cases.txt <<'EOF' || fail "cases"
import json, math, sys
from jsonschema import Draft202012Validator as V
s = json.load(open(sys.argv[1]))
v = V(s)
for k, p in s["properties"].items():
    if p["type"] not in ("integer", "number") or k == "duration":
        continue
    vals = []
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if key in p:
            b = p[key]
            vals += [float(b), math.nextafter(float(b), -math.inf),
                     math.nextafter(float(b), math.inf)]
            if float(b).is_integer() and abs(b) < 2**62:
                vals += [int(b) - 1, int(b), int(b) + 1]
    if p["type"] == "integer":  # int64's ends, as integers and as reals
        vals += [-2**63, 2**63 - 1, float(-2**63), float(2**63), float(-2**64)]
    vals += [1.5, "1"]
    for x in vals:
        inst = {k: x}
        print("%s %d %s" % (k, 1 if v.is_valid(inst) else 0, json.dumps(inst)))
EOF
n=0
while read -r name valid params; do
    sweep sim chaos --params "$params" >out.txt 2>err.txt
    rc=$?
    refused=0
    [ $rc -eq 2 ] && grep -qF "chaos: $name: expected" err.txt && refused=1
    if [ "$refused" -eq "$valid" ]; then
        cat err.txt >&2
        fail "chaos $params: schema says valid=$valid, sweep sim exited $rc"
    fi
    n=$((n + 1))
done <cases.txt
[ "$n" -gt 50 ] || fail "only $n chaos cases"
ok "chaos: $n bound cases, the validator and sweep sim agree"

# Names in capitals: the task-queue files' algorithms.
expect_code 0 sweep models DLA --json
cp "$T/out" dla-caps.json
expect_code 0 sweep models dla --json
cmp -s "$T/out" dla-caps.json || fail "sweep models DLA --json is not dla's"
expect_code 0 sweep models BENCHMARK
expect_in "$T/out" "BENCHMARK is an alias: particles with"
expect_code 2 sweep models Dla
expect_in "$T/err" 'unknown model "Dla"'
expect_code 2 sweep models dla --json --json-schema
expect_in "$T/err" "exclude each other"
expect_code 0 sweep sim EDEN --set n_particles=50 --json
expect_in "$T/out" '"n_particles"'
ok "names in capitals resolve (DLA, BENCHMARK, EDEN); other cases do not"

echo "1..$NTESTS"
