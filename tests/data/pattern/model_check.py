"""Model check for `kizuna pattern match`: random small observation sets and random patterns
(AND/OR/FOLLOWEDBY/WITHIN/REPEATS/START-STOP over three leaves), each decided twice: by the
binary, and by a brute-force enumeration of every binding written from the reference
matcher's semantics (distinct observations counting number_observed; FOLLOWEDBY: max first of
the left <= min last of the right; WITHIN d: max first <= min last + d; START/STOP: first <
stop and last >= start). Exit 1 on any disagreement.
Usage: model_check.py KIZUNA_BINARY WORKDIR SEED COUNT"""
import json, random, subprocess, itertools, datetime, sys, os
BIN=sys.argv[1]
WORK=sys.argv[2]
random.seed(int(sys.argv[3]))
def ts(t): return (datetime.datetime(2020,1,1)+datetime.timedelta(seconds=t)).strftime('%Y-%m-%dT%H:%M:%SZ')
def gen_pat(d):
    r=random.random()
    if d==0 or r<0.3:
        return ('leaf', random.choice('ABC'))
    k=random.choice(['and','or','fb','within','repeats','ss'])
    if k in ('and','or','fb'): return (k, gen_pat(d-1), gen_pat(d-1))
    if k=='within': return (k, gen_pat(d-1), random.choice([1,2,3,5]))
    if k=='repeats': return (k, gen_pat(d-1), random.choice([2,3]))
    a=random.randint(0,8); return (k, gen_pat(d-1), a, a+random.randint(1,5))
def txt(p):
    k=p[0]
    if k=='leaf': return "[p:k = '%s']"%p[1]
    if k=='and': return '(%s AND %s)'%(txt(p[1]),txt(p[2]))
    if k=='or': return '(%s OR %s)'%(txt(p[1]),txt(p[2]))
    if k=='fb': return '(%s FOLLOWEDBY %s)'%(txt(p[1]),txt(p[2]))
    if k=='within': return '(%s WITHIN %d SECONDS)'%(txt(p[1]),p[2])
    if k=='repeats': return '(%s REPEATS %d TIMES)'%(txt(p[1]),p[2])
    return "(%s START t'%s' STOP t'%s')"%(txt(p[1]),ts(p[2]),ts(p[3]))
def binds(p, units):
    k=p[0]
    if k=='leaf': return [(i,) for i,u in enumerate(units) if u[2]==p[1]]
    if k=='or': return binds(p[1],units)+binds(p[2],units)
    if k in('and','fb'):
        L=binds(p[1],units); R=binds(p[2],units); out=[]
        for a in L:
            for b in R:
                if set(a)&set(b): continue
                if k=='fb' and not max(units[i][0] for i in a) <= min(units[i][1] for i in b): continue
                out.append(a+b)
        return out
    if k=='within':
        return [b for b in binds(p[1],units) if max(units[i][0] for i in b) <= min(units[i][1] for i in b)+p[2]]
    if k=='ss':
        if not p[2]<p[3]: return []
        return [b for b in binds(p[1],units) if all(units[i][0]<p[3] and units[i][1]>=p[2] for i in b)]
    if k=='repeats':
        B=binds(p[1],units); out=[]
        for combo in itertools.combinations(B,p[2]):
            s=set()
            ok=True
            for b in combo:
                if s & set(b): ok=False;break
                s|=set(b)
            if ok: out.append(tuple(x for b in combo for x in b))
            if len(out)>2000: break
        return out
bad=0
nm=0
for it in range(int(sys.argv[4])):
    nod=random.randint(1,6); docs=[]; units=[]
    for j in range(nod):
        f=random.randint(0,10); l=f+random.choice([0,0,1,3]); c=random.choice([1,1,1,2]); k=random.choice('ABC')
        docs.append({"type":"observed-data","id":"observed-data--%d"%j,"first_observed":ts(f),"last_observed":ts(l),"number_observed":c,"objects":{"0":{"type":"p","k":k}}})
        for _ in range(c): units.append((f,l,k,j))
    p=gen_pat(3); t=txt(p)
    want=1 if binds(p,units) else 0
    nm+=want
    open(os.path.join(WORK,'d.json'),'w').write(json.dumps(docs))
    r=subprocess.run([BIN,'pattern','match','--stix-version','2.1',t,os.path.join(WORK,'d.json')],capture_output=True,text=True)
    got={0:1,1:0}.get(r.returncode, -r.returncode)
    if got!=want:
        bad+=1; print('MISMATCH want',want,'got',got,t,r.stderr.strip()); print(json.dumps(docs)); 
print('model check: %d cases, %d matches, %d mismatches' % (int(sys.argv[4]), nm, bad))
sys.exit(1 if bad else 0)
