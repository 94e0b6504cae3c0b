"""Checks and counts only (no generation). Usage: python3 check.py"""
import re, sys, collections, pathlib, yaml
root = pathlib.Path(__file__).parent
policy = open('/work/shared/clinical/triage-policy.md').read()
ids = set(re.findall(r'\b((?:SS|COMBO|RX|RF|CL)-[A-Z0-9-]*[A-Z0-9])\b', policy))
ids.discard('COMBO-X')
LEVELS = {'emergency', 'urgent', 'routine', 'self_care'}
STATUS = {'current', 'past', 'hypothetical', 'other_person', 'negated', 'planned'}
ok = True
allrules = collections.Counter(); vids = []; mids = []
for half in ('dev', 'test'):
    v = yaml.safe_load(open(root / half / 'vignettes.yml'))['vignettes']
    m = yaml.safe_load(open(root / half / 'medicine_texts.yml'))['texts']
    vids += [x['id'] for x in v]; mids += [x['id'] for x in m]
    lv = collections.Counter(x['level'] for x in v)
    rc = collections.Counter(r for x in v for r in x['rules'])
    allrules.update(rc)
    for x in v:
        assert x['level'] in LEVELS, x['id']
        assert 1 <= len(x['messages']) <= 4, x['id']
        for r in x['rules']:
            if r not in ids: print('unknown rule', x['id'], r); ok = False
        assert isinstance(x['current'], list) and x['note'], x['id']
    for x in m:
        for men in x['mentions']:
            assert men['status'] in STATUS, x['id']
            assert men['name'] == men['name'].lower(), x['id']
        for u in x['unrecognised']:
            assert u in x['text'], (x['id'], u)
    print(f"== {half}: {len(v)} vignettes, {len(m)} medicine texts")
    print('levels', dict(lv), {k: f"{100*n/len(v):.1f}%" for k, n in lv.items()})
    print('multi-message', sum(len(x['messages']) > 1 for x in v),
          'by length', dict(collections.Counter(len(x['messages']) for x in v)))
    print('rules', dict(sorted(rc.items())))
    print('no-rule vignettes', sum(not x['rules'] for x in v))
    print('mention statuses', dict(collections.Counter(s['status'] for x in m for s in x['mentions'])))
    print('texts with unrecognised', sum(bool(x['unrecognised']) for x in m),
          'texts without mentions', sum(not x['mentions'] for x in m))
for name, lst in (('vignette', vids), ('text', mids)):
    if len(lst) != len(set(lst)): print('duplicate', name, 'ids'); ok = False
missing = sorted(ids - set(allrules)); low = {r: n for r, n in allrules.items() if n < 6}
print('policy rule ids', len(ids), 'missing', missing, 'below 6', low)
print('OK' if ok and not missing and not low else 'PROBLEMS')
