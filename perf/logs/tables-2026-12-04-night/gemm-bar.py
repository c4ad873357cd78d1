import re,sys,json
def run(js):
    d=json.load(open(js)); out=[]
    for r in d['rows']:
        shape=r['shape']
        m=re.match(r'X \[(\d+), (\d+)\] W \[(\d+), (\d+)\]',shape)
        if m: M,K,N=int(m.group(1)),int(m.group(2)),int(m.group(3))
        else:
            m=re.match(r'x \[\d+, (\d+), (\d+), (\d+)\] w \[(\d+), \d+, 1, 1\]',shape)
            if not m: continue
            K=int(m.group(1)); M=int(m.group(4)); N=int(m.group(2))*int(m.group(3))
        if K>=320 and M*N>=65536:
            out.append((r['name'], r['ours_pct_peak'], r.get('ours_pct_peak_beside', float('nan')), r['ratio']))
    return d['peak_gflops'], out
for js in sys.argv[1:]:
    peak, r=run(js)
    a=sorted(x[1] for x in r); b=sorted(x[2] for x in r)
    print(js,'peak',round(peak),'rows',len(r),'median',round(a[len(a)//2]),'beside median',round(b[len(b)//2]) if b[0]==b[0] else '-','under 80:',sum(1 for x in a if x<80),'beside under 80:',sum(1 for x in b if x<80))
    for x in sorted(r,key=lambda x:x[1]):
        if x[1]<80 or x[2]<80: print('   %-50s %5.1f %%  beside %5.1f %%  ratio %.2f'%x)
    bad=[(x['name'],x['ratio']) for x in json.load(open(js))['rows'] if x['ratio'] and x['ratio']>1.0]
    print('  over 1.0:', bad)
