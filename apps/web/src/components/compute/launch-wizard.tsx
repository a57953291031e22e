'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import { type ReactNode, useEffect, useMemo, useState } from 'react';
import { useInvalidate } from '@/lib/resource';
import { QUIET, useTRPC } from '@/lib/trpc';
import type { AppRouter } from '@/server/routers';
import { Icon } from '../icons';
import { Modal } from '../modal';
import { useToast } from '../toast';
import { Badge, Button, Field, FormError, Input, Select, Spinner, Textarea } from '../ui';
import { PrivateKeyOnce } from './keypair-secret';
import { formatBytes, formatRam } from './status';

type Out = inferRouterOutputs<AppRouter>;
type Flavor = Out['compute']['flavors']['list'][number];
type Image = Out['image']['images']['list']['items'][number];
type Limits = Out['compute']['limits'];

const STEPS = ['Details', 'Source', 'Flavor', 'Networks', 'Key pair', 'Configuration'] as const;
type Step = (typeof STEPS)[number];

interface Values {
  name: string;
  count: number;
  imageId: string;
  flavorId: string;
  networkIds: string[];
  keyName: string;
  userData: string;
  serverGroupId: string;
}
const initial = (imageId?: string): Values => ({
  name: '',
  count: 1,
  imageId: imageId ?? '',
  flavorId: '',
  networkIds: [],
  keyName: '',
  userData: '',
  serverGroupId: '',
});

/** What is left of a limit (-1 is unlimited). */
const left = (max: number, used: number) => (max < 0 ? Number.POSITIVE_INFINITY : Math.max(0, max - used));

/** Why `f` cannot launch `count` servers of `image` within the quota; null when it can. */
export function flavorProblem(
  f: Flavor,
  count: number,
  limits: Limits | undefined,
  image: Image | undefined,
): string | null {
  if (image) {
    if (f.ramMb < image.minRam) return `The image needs at least ${formatRam(image.minRam)} of RAM.`;
    if (f.diskGb > 0 && f.diskGb < image.minDisk) return `The image needs a disk of at least ${image.minDisk} GB.`;
    const size = image.virtualSize ?? image.size ?? 0;
    if (f.diskGb > 0 && size > f.diskGb * 1024 ** 3) return `The image (${formatBytes(size)}) is larger than the disk.`;
  }
  if (!limits) return null;
  if (count > left(limits.maxTotalInstances, limits.totalInstancesUsed))
    return 'Not enough instances left in the quota.';
  if (count * f.vcpus > left(limits.maxTotalCores, limits.totalCoresUsed)) return 'Not enough vCPUs left in the quota.';
  if (count * f.ramMb > left(limits.maxTotalRAMSize, limits.totalRAMUsed)) return 'Not enough RAM left in the quota.';
  return null;
}

/** UTF-8 text → base64, as Nova takes user data. */
function toBase64(text: string): string {
  let bin = '';
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
  return btoa(bin);
}

/**
 * Launch Instance: a keyboard-friendly wizard (Enter goes to the next step, then
 * launches). The flavor step checks what fits in the remaining quota before the API does.
 */
export function LaunchWizard({ open, imageId, onClose }: { open: boolean; imageId?: string; onClose: () => void }) {
  const trpc = useTRPC();
  const toast = useToast();
  const invalidate = useInvalidate();
  const [v, setV] = useState<Values>(() => initial(imageId));
  const [step, setStep] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [stepError, setStepError] = useState<string | null>(null);
  useEffect(() => {
    if (!open) return;
    setV(initial(imageId));
    setStep(0);
    setError(null);
    setStepError(null);
  }, [open, imageId]);

  const images = useQuery({ ...trpc.image.images.list.queryOptions({ status: 'active', limit: 200 }), enabled: open });
  const flavors = useQuery({ ...trpc.compute.flavors.list.queryOptions({}), enabled: open });
  const limits = useQuery({ ...trpc.compute.limits.queryOptions(), enabled: open });
  const create = useMutation(trpc.compute.servers.create.mutationOptions(QUIET));
  const set = <K extends keyof Values>(k: K, value: Values[K]) => {
    setV((x) => ({ ...x, [k]: value }));
    setStepError(null);
  };

  const image = images.data?.items.find((i) => i.id === v.imageId);
  const flavor = flavors.data?.find((f) => f.id === v.flavorId);
  const flavorIssue = flavor ? flavorProblem(flavor, v.count, limits.data, image) : null;

  /** The first problem that keeps `s` from being complete. */
  const problem = (s: Step): string | null => {
    if (s === 'Details') {
      if (!v.name.trim()) return 'Give the instance a name.';
      if (v.name.trim() !== v.name) return 'The name must not start or end with spaces.';
      if (!Number.isInteger(v.count) || v.count < 1) return 'The count must be at least 1.';
    }
    if (s === 'Source' && !v.imageId) return 'Choose an image to boot from.';
    if (s === 'Flavor') {
      if (!v.flavorId) return 'Choose a flavor.';
      if (flavorIssue) return flavorIssue;
    }
    return null;
  };
  const firstIncomplete = STEPS.findIndex((s) => problem(s) !== null);
  const current = STEPS[step] ?? 'Details';
  const last = step === STEPS.length - 1;

  const next = () => {
    const p = problem(current);
    if (p) return setStepError(p);
    setStep((s) => Math.min(s + 1, STEPS.length - 1));
  };

  const launch = async () => {
    if (firstIncomplete >= 0) {
      setStep(firstIncomplete);
      setStepError(problem(STEPS[firstIncomplete] ?? 'Details'));
      return;
    }
    setError(null);
    try {
      const r = await create.mutateAsync({
        name: v.name,
        imageRef: v.imageId,
        flavorRef: v.flavorId,
        minCount: v.count,
        maxCount: v.count,
        keyName: v.keyName || undefined,
        userData: v.userData.trim() ? toBase64(v.userData) : undefined,
        networks: v.networkIds.length ? v.networkIds.map((uuid) => ({ uuid })) : undefined,
        serverGroupId: v.serverGroupId || undefined,
      });
      toast.success(
        r.servers.length === 1
          ? `Launching ${r.servers[0]?.name ?? v.name}`
          : `Launching ${r.servers.length} instances`,
        'It appears in the list in BUILD and turns ACTIVE when the guest is running.',
      );
      await invalidate(trpc.compute.servers.pathKey(), trpc.compute.limits.pathKey());
      onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <Modal
      open={open}
      title="Launch instance"
      description="Boot one or more servers from an image."
      size="lg"
      onClose={onClose}
      onSubmit={() => (last ? void launch() : next())}
      footer={
        <div className="flex w-full items-center justify-between gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <div className="flex gap-2">
            <Button onClick={() => setStep((s) => Math.max(0, s - 1))} disabled={step === 0}>
              Back
            </Button>
            {!last && <Button type="submit">Next</Button>}
            <Button variant="primary" busy={create.isPending} onClick={() => void launch()}>
              Launch instance
            </Button>
          </div>
        </div>
      }
    >
      <ol className="-mt-1 flex flex-wrap gap-1" aria-label="Steps">
        {STEPS.map((s, i) => {
          const done = problem(s) === null && i < step;
          return (
            <li key={s}>
              <button
                type="button"
                aria-current={i === step ? 'step' : undefined}
                onClick={() => {
                  setStep(i);
                  setStepError(null);
                }}
                className={`flex items-center gap-1.5 rounded-full px-2.5 py-1 text-xs font-medium transition ${
                  i === step
                    ? 'bg-sky-600 text-white'
                    : 'bg-slate-100 text-slate-600 hover:bg-slate-200 dark:bg-slate-800 dark:text-slate-300 dark:hover:bg-slate-700'
                }`}
              >
                <span
                  className={`grid size-4 place-items-center rounded-full text-[10px] ${i === step ? 'bg-white/25' : 'bg-white dark:bg-slate-900'}`}
                >
                  {done ? <Icon name="check" className="size-3" /> : i + 1}
                </span>
                {s}
              </button>
            </li>
          );
        })}
      </ol>
      <FormError message={error} />
      <FormError message={stepError} />
      <div className="min-h-72">
        {current === 'Details' && (
          <div className="grid gap-4 sm:grid-cols-3">
            <div className="sm:col-span-2">
              <Field
                label="Instance name"
                htmlFor="launch-name"
                hint="With a count above 1, names get -1, -2, … appended."
              >
                <Input
                  id="launch-name"
                  autoFocus
                  autoComplete="off"
                  value={v.name}
                  onChange={(e) => set('name', e.target.value)}
                />
              </Field>
            </div>
            <Field label="Count" htmlFor="launch-count">
              <Input
                id="launch-count"
                type="number"
                min={1}
                max={100}
                value={v.count}
                onChange={(e) => set('count', Math.max(1, Number.parseInt(e.target.value, 10) || 1))}
              />
            </Field>
          </div>
        )}
        {current === 'Source' && (
          <ImageStep
            images={images.data?.items}
            loading={images.isLoading}
            error={images.error?.message}
            value={v.imageId}
            onChange={(id) => set('imageId', id)}
          />
        )}
        {current === 'Flavor' && (
          <FlavorStep
            flavors={flavors.data}
            loading={flavors.isLoading}
            limits={limits.data}
            image={image}
            count={v.count}
            value={v.flavorId}
            onChange={(id) => set('flavorId', id)}
          />
        )}
        {current === 'Networks' && (
          <NetworkStep open={open} value={v.networkIds} onChange={(ids) => set('networkIds', ids)} />
        )}
        {current === 'Key pair' && <KeyPairStep open={open} value={v.keyName} onChange={(k) => set('keyName', k)} />}
        {current === 'Configuration' && (
          <ConfigStep
            open={open}
            userData={v.userData}
            onUserData={(t) => set('userData', t)}
            group={v.serverGroupId}
            onGroup={(g) => set('serverGroupId', g)}
          />
        )}
      </div>
      <Summary v={v} image={image} flavor={flavor} />
    </Modal>
  );
}

function Summary({ v, image, flavor }: { v: Values; image?: Image; flavor?: Flavor }) {
  const item = (label: string, value: ReactNode) => (
    <div className="min-w-0">
      <dt className="text-[11px] uppercase tracking-wide text-slate-400">{label}</dt>
      <dd className="truncate text-sm">{value || <span className="text-slate-400">—</span>}</dd>
    </div>
  );
  return (
    <dl className="grid grid-cols-2 gap-3 rounded-lg bg-slate-50 px-4 py-3 sm:grid-cols-4 dark:bg-slate-800/50">
      {item('Name', v.name && (v.count > 1 ? `${v.name} ×${v.count}` : v.name))}
      {item('Image', image?.name ?? (v.imageId ? v.imageId.slice(0, 8) : ''))}
      {item('Flavor', flavor && `${flavor.name} · ${flavor.vcpus} vCPU · ${formatRam(flavor.ramMb)}`)}
      {item('Key pair', v.keyName)}
    </dl>
  );
}

function Choice({
  name,
  value,
  checked,
  disabled,
  label,
  onChange,
  children,
}: {
  name: string;
  value: string;
  checked: boolean;
  disabled?: boolean;
  label: string;
  onChange: () => void;
  children: ReactNode;
}) {
  return (
    <label
      className={`flex cursor-pointer items-center gap-3 rounded-lg px-3 py-2.5 ring-1 ring-inset transition ${
        checked
          ? 'bg-sky-50 ring-sky-500 dark:bg-sky-500/10'
          : 'ring-slate-200 hover:bg-slate-50 dark:ring-slate-700 dark:hover:bg-slate-800/50'
      } ${disabled ? 'cursor-not-allowed opacity-55' : ''}`}
    >
      <input
        type="radio"
        name={name}
        value={value}
        aria-label={label}
        checked={checked}
        disabled={disabled}
        onChange={onChange}
        className="size-4 text-sky-600 focus:ring-sky-600"
      />
      <div className="min-w-0 flex-1">{children}</div>
    </label>
  );
}

function ImageStep({
  images,
  loading,
  error,
  value,
  onChange,
}: {
  images?: Image[];
  loading: boolean;
  error?: string;
  value: string;
  onChange: (id: string) => void;
}) {
  const [q, setQ] = useState('');
  const shown = (images ?? []).filter((i) => (i.name ?? i.id).toLowerCase().includes(q.toLowerCase()));
  if (loading) return <Spinner className="size-5 text-sky-600" />;
  if (error) return <FormError message={error} />;
  if (!images?.length)
    return (
      <p className="rounded-lg border border-dashed border-slate-300 p-6 text-center text-sm text-slate-500 dark:border-slate-700">
        No active image yet. Upload one in{' '}
        <a className="text-sky-600 underline" href="/project/images">
          Images
        </a>
        .
      </p>
    );
  return (
    <div className="space-y-3">
      <Input
        type="search"
        placeholder="Filter images"
        aria-label="Filter images"
        value={q}
        onChange={(e) => setQ(e.target.value)}
      />
      <div role="radiogroup" aria-label="Image" className="max-h-72 space-y-2 overflow-y-auto p-0.5">
        {shown.map((i) => (
          <Choice
            key={i.id}
            name="image"
            value={i.id}
            label={i.name ?? i.id}
            checked={value === i.id}
            onChange={() => onChange(i.id)}
          >
            <div className="flex items-center justify-between gap-3">
              <span className="truncate font-medium">{i.name ?? <code>{i.id}</code>}</span>
              <span className="flex shrink-0 items-center gap-2 text-xs text-slate-500">
                {i.diskFormat && <Badge>{i.diskFormat}</Badge>}
                {formatBytes(i.size)}
                <Badge tone={i.visibility === 'public' ? 'sky' : 'slate'}>{i.visibility}</Badge>
              </span>
            </div>
          </Choice>
        ))}
      </div>
    </div>
  );
}

function QuotaMeter({
  label,
  used,
  max,
  adding,
  unit,
}: {
  label: string;
  used: number;
  max: number;
  adding: number;
  unit?: (n: number) => string;
}) {
  const fmt = unit ?? ((n: number) => String(n));
  const unlimited = max < 0;
  const pct = (n: number) => (unlimited || max === 0 ? 0 : Math.min(100, (n / max) * 100));
  const over = !unlimited && used + adding > max;
  return (
    <div className="space-y-1">
      <div className="flex justify-between text-xs">
        <span className="font-medium text-slate-600 dark:text-slate-300">{label}</span>
        <span className={over ? 'text-rose-600' : 'text-slate-500'}>
          {unlimited ? `${fmt(used)} used · unlimited` : `${fmt(Math.max(0, max - used))} left of ${fmt(max)}`}
        </span>
      </div>
      <div className="flex h-1.5 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-700">
        <div className="bg-slate-400 dark:bg-slate-500" style={{ width: `${pct(used)}%` }} />
        <div
          className={over ? 'bg-rose-500' : 'bg-sky-500'}
          style={{ width: `${pct(Math.min(adding, Math.max(0, max - used)))}%` }}
        />
      </div>
    </div>
  );
}

function FlavorStep({
  flavors,
  loading,
  limits,
  image,
  count,
  value,
  onChange,
}: {
  flavors?: Flavor[];
  loading: boolean;
  limits?: Limits;
  image?: Image;
  count: number;
  value: string;
  onChange: (id: string) => void;
}) {
  const chosen = flavors?.find((f) => f.id === value);
  return (
    <div className="space-y-4">
      {limits && (
        <div
          className="grid gap-3 rounded-lg border border-slate-200 p-3 sm:grid-cols-3 dark:border-slate-800"
          data-testid="quota-left"
        >
          <QuotaMeter
            label="Instances"
            used={limits.totalInstancesUsed}
            max={limits.maxTotalInstances}
            adding={chosen ? count : 0}
          />
          <QuotaMeter
            label="vCPUs"
            used={limits.totalCoresUsed}
            max={limits.maxTotalCores}
            adding={chosen ? count * chosen.vcpus : 0}
          />
          <QuotaMeter
            label="RAM"
            used={limits.totalRAMUsed}
            max={limits.maxTotalRAMSize}
            adding={chosen ? count * chosen.ramMb : 0}
            unit={formatRam}
          />
        </div>
      )}
      {loading ? (
        <Spinner className="size-5 text-sky-600" />
      ) : !flavors?.length ? (
        <p className="text-sm text-slate-500">
          No flavor is available to this project. An administrator creates flavors in Admin → Flavors.
        </p>
      ) : (
        <div role="radiogroup" aria-label="Flavor" className="max-h-64 space-y-2 overflow-y-auto p-0.5">
          {flavors.map((f) => {
            const issue = flavorProblem(f, count, limits, image);
            return (
              <Choice
                key={f.id}
                name="flavor"
                value={f.id}
                label={f.name}
                checked={value === f.id}
                disabled={issue !== null}
                onChange={() => onChange(f.id)}
              >
                <div className="flex items-center justify-between gap-3">
                  <div className="min-w-0">
                    <div className="font-medium">{f.name}</div>
                    {issue && <div className="text-xs text-rose-600 dark:text-rose-400">{issue}</div>}
                  </div>
                  <div className="grid shrink-0 grid-cols-3 gap-4 text-right text-xs tabular-nums text-slate-600 dark:text-slate-300">
                    <span>{f.vcpus} vCPU</span>
                    <span>{formatRam(f.ramMb)}</span>
                    <span>{f.diskGb ? `${f.diskGb} GB` : 'image size'}</span>
                  </div>
                </div>
              </Choice>
            );
          })}
        </div>
      )}
    </div>
  );
}

function NetworkStep({ open, value, onChange }: { open: boolean; value: string[]; onChange: (ids: string[]) => void }) {
  const trpc = useTRPC();
  const nets = useQuery({ ...trpc.compute.networks.queryOptions(), enabled: open, retry: false });
  if (nets.isLoading) return <Spinner className="size-5 text-sky-600" />;
  if (nets.error || !nets.data?.length)
    return (
      <div className="rounded-lg border border-dashed border-slate-300 p-6 text-center dark:border-slate-700">
        <Icon name="network" className="mx-auto size-6 text-slate-400" />
        <p className="mt-2 text-sm font-medium">No networks yet</p>
        <p className="mt-1 text-sm text-slate-500">
          {nets.error
            ? `Networks could not be listed: ${nets.error.message}`
            : 'The instance starts without a network interface; its console still works.'}
        </p>
      </div>
    );
  return (
    <div className="space-y-2">
      <p className="text-sm text-slate-500">
        Attach the instance to these networks (in this order). None: no network interface.
      </p>
      {nets.data.map((n) => {
        const on = value.includes(n.id);
        return (
          <label
            key={n.id}
            className={`flex items-center gap-3 rounded-lg px-3 py-2.5 ring-1 ring-inset ${on ? 'bg-sky-50 ring-sky-500 dark:bg-sky-500/10' : 'ring-slate-200 dark:ring-slate-700'}`}
          >
            <input
              type="checkbox"
              checked={on}
              aria-label={n.name || n.id}
              onChange={() => onChange(on ? value.filter((x) => x !== n.id) : [...value, n.id])}
              className="size-4 rounded text-sky-600"
            />
            <span className="flex-1 font-medium">{n.name || <code>{n.id}</code>}</span>
            <span className="text-xs text-slate-500">
              {n.subnets} subnet{n.subnets === 1 ? '' : 's'}
            </span>
            {n.shared && <Badge tone="sky">shared</Badge>}
          </label>
        );
      })}
    </div>
  );
}

function KeyPairStep({ open, value, onChange }: { open: boolean; value: string; onChange: (name: string) => void }) {
  const trpc = useTRPC();
  const invalidate = useInvalidate();
  const keys = useQuery({ ...trpc.compute.keypairs.list.queryOptions(), enabled: open });
  const create = useMutation(trpc.compute.keypairs.create.mutationOptions(QUIET));
  const [mode, setMode] = useState<'pick' | 'create' | 'import'>('pick');
  const [name, setName] = useState('');
  const [publicKey, setPublicKey] = useState('');
  const [err, setErr] = useState<string | null>(null);
  const [generated, setGenerated] = useState<{ name: string; privateKey: string } | null>(null);
  const submit = async () => {
    setErr(null);
    try {
      const k = await create.mutateAsync({
        name: name.trim(),
        publicKey: mode === 'import' ? publicKey.trim() : undefined,
      });
      await invalidate(trpc.compute.keypairs.pathKey());
      if (k.privateKey) setGenerated({ name: k.name, privateKey: k.privateKey });
      onChange(k.name);
      setMode('pick');
      setName('');
      setPublicKey('');
    } catch (e) {
      setErr(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <div className="space-y-4">
      {generated && <PrivateKeyOnce name={generated.name} privateKey={generated.privateKey} />}
      {mode === 'pick' ? (
        <>
          <div role="radiogroup" aria-label="Key pair" className="max-h-56 space-y-2 overflow-y-auto p-0.5">
            <Choice name="keypair" value="" label="No key pair" checked={value === ''} onChange={() => onChange('')}>
              <span className="text-slate-500">No key pair</span>
            </Choice>
            {keys.data?.map((k) => (
              <Choice
                key={k.id}
                name="keypair"
                value={k.name}
                label={k.name}
                checked={value === k.name}
                onChange={() => onChange(k.name)}
              >
                <div className="flex items-center justify-between gap-3">
                  <span className="font-medium">{k.name}</span>
                  <code className="truncate text-xs text-slate-500">{k.fingerprint}</code>
                </div>
              </Choice>
            ))}
          </div>
          <div className="flex gap-2">
            <Button onClick={() => setMode('create')}>
              <Icon name="plus" className="size-4" /> Create key pair
            </Button>
            <Button onClick={() => setMode('import')}>
              <Icon name="key" className="size-4" /> Import public key
            </Button>
          </div>
        </>
      ) : (
        <div className="space-y-3 rounded-lg border border-slate-200 p-4 dark:border-slate-800">
          <FormError message={err} />
          <Field label="Key pair name" htmlFor="kp-name">
            <Input id="kp-name" autoFocus value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          {mode === 'import' && (
            <Field label="Public key" htmlFor="kp-public" hint="An OpenSSH public key line (ssh-ed25519 …, ssh-rsa …).">
              <Textarea
                id="kp-public"
                rows={3}
                className="font-mono text-xs"
                value={publicKey}
                onChange={(e) => setPublicKey(e.target.value)}
              />
            </Field>
          )}
          <div className="flex gap-2">
            <Button variant="primary" busy={create.isPending} disabled={!name.trim()} onClick={() => void submit()}>
              {mode === 'create' ? 'Generate key pair' : 'Import key pair'}
            </Button>
            <Button onClick={() => setMode('pick')}>Cancel</Button>
          </div>
        </div>
      )}
    </div>
  );
}

function ConfigStep({
  open,
  userData,
  onUserData,
  group,
  onGroup,
}: {
  open: boolean;
  userData: string;
  onUserData: (t: string) => void;
  group: string;
  onGroup: (g: string) => void;
}) {
  const trpc = useTRPC();
  const groups = useQuery({ ...trpc.compute.serverGroups.queryOptions(), enabled: open, retry: false });
  const bytes = useMemo(() => new TextEncoder().encode(userData).length, [userData]);
  return (
    <div className="space-y-4">
      <Field
        label="User data"
        htmlFor="launch-userdata"
        hint={`A cloud-config document or a script the guest runs at first boot. ${bytes ? `${bytes} bytes.` : ''}`}
      >
        <Textarea
          id="launch-userdata"
          rows={8}
          className="font-mono text-xs"
          placeholder={'#cloud-config\npackages:\n  - nginx'}
          value={userData}
          onChange={(e) => onUserData(e.target.value)}
        />
      </Field>
      {groups.data && groups.data.length > 0 && (
        <Field
          label="Server group"
          htmlFor="launch-group"
          hint="Affinity rules the scheduler applies to the group's members."
        >
          <Select id="launch-group" value={group} onChange={(e) => onGroup(e.target.value)}>
            <option value="">None</option>
            {groups.data.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name} ({g.policy}, {g.members} member{g.members === 1 ? '' : 's'})
              </option>
            ))}
          </Select>
        </Field>
      )}
    </div>
  );
}
