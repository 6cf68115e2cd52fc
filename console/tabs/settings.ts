import { TfaApiError, type Schemas, type TfaClient } from '../../client/tfaClient.ts';
import { field, h, POLICY_OFF, select, statusArea } from '../ui.ts';

/** Settings: the issuer apps show, the policy, the enrolment requirement, TOTP parameters and the lockout. */
export function settingsTab(api: TfaClient): HTMLElement {
  const status = statusArea();
  const root = h('section', {}, h('h2', {}, 'Settings'), status.element);
  status.loading();
  api.settings.get().then(
    (settings) => {
      status.clear();
      root.append(form(api, settings));
    },
    (error) => status.error(error),
  );
  return root;
}

const number = (value: number) => h('input', { type: 'number', value: String(value), inputmode: 'numeric' });

function form(api: TfaClient, current: Schemas['Settings']) {
  const issuer = field('Issuer', h('input', { value: current.issuer, autocomplete: 'off' }));
  const policy = field(
    'Policy',
    select(
      [
        ['enabled', 'Enabled'],
        ['disabled', 'Disabled'],
      ],
      current.policy,
    ),
  );
  const algorithm = field(
    'Algorithm',
    select(
      [
        ['SHA1', 'SHA1'],
        ['SHA256', 'SHA256'],
        ['SHA512', 'SHA512'],
      ],
      current.totp.algorithm,
    ),
  );
  const digits = field(
    'Digits',
    select(
      [
        ['6', '6'],
        ['8', '8'],
      ],
      String(current.totp.digits),
    ),
  );
  const period = field('Period (seconds)', number(current.totp.period));
  const window = field('Window (time steps either side)', number(current.totp.window));
  const maxFailures = field('Failures before a lock', number(current.lockout.maxFailures));
  const lockSeconds = field('Lock (seconds)', number(current.lockout.lockSeconds));
  const setupTtl = field('Setup lifetime (seconds)', number(current.setupTtlSeconds));
  const required = field('Require enrolment', h('input', { type: 'checkbox' }));
  required.control.checked = current.enrolment.required;
  // A date, read as the start of that day in UTC; a deadline set through the API at
  // another hour is kept as it is unless the date is changed here.
  let heldDeadline = current.enrolment.deadline;
  const dayOf = (at: string | null) => at?.slice(0, 10) ?? '';
  const deadline = field('Deadline', h('input', { type: 'date', value: dayOf(heldDeadline) }));
  const graceDays = field('Grace days', number(current.enrolment.graceDays));
  const all = {
    issuer,
    policy,
    algorithm,
    digits,
    period,
    window,
    maxFailures,
    lockSeconds,
    setupTtl,
    required,
    deadline,
    graceDays,
  };
  const policyNotice = h('p', { class: 'notice' }, POLICY_OFF);
  const showPolicy = () => (policyNotice.hidden = policy.control.value !== 'disabled');
  policy.control.addEventListener('change', showPolicy);
  showPolicy();
  const status = statusArea();

  const save = async (event: Event) => {
    event.preventDefault();
    Object.values(all).forEach((f) => f.setError(''));
    status.loading('Saving…');
    const int = (f: { control: HTMLInputElement | HTMLSelectElement }) => Number(f.control.value);
    const day = deadline.control.value;
    const deadlineAt = day === dayOf(heldDeadline) ? heldDeadline : day === '' ? null : `${day}T00:00:00Z`;
    try {
      const saved = await api.settings.change({
        issuer: issuer.control.value,
        policy: policy.control.value as Schemas['Policy'],
        totp: {
          algorithm: algorithm.control.value as 'SHA1',
          digits: int(digits) as 6,
          period: int(period),
          window: int(window),
        },
        lockout: { maxFailures: int(maxFailures), lockSeconds: int(lockSeconds) },
        setupTtlSeconds: int(setupTtl),
        enrolment: { required: required.control.checked, deadline: deadlineAt, graceDays: int(graceDays) },
      });
      heldDeadline = saved.enrolment.deadline;
      issuer.control.value = saved.issuer;
      status.ok('Settings saved.');
    } catch (error) {
      // The API names the field in its message: the message goes beside that field.
      const named = error instanceof TfaApiError ? fieldOf(error, all) : undefined;
      if (named) {
        named.field.setError(named.message);
        named.field.control.focus();
        status.clear();
      } else status.error(error);
    }
  };

  return h(
    'form',
    { onsubmit: save, novalidate: true },
    issuer.element,
    h('p', {}, 'The name authenticator apps show beside the code; by default, the server’s name.'),
    policy.element,
    policyNotice,
    h('h3', {}, 'Codes of new enrolments'),
    h(
      'p',
      { class: 'notice' },
      'Google Authenticator and several other apps ignore everything but SHA1, 6 digits and 30 seconds: other values give them wrong codes.',
    ),
    algorithm.element,
    digits.element,
    period.element,
    window.element,
    h('h3', {}, 'Lockout'),
    maxFailures.element,
    lockSeconds.element,
    setupTtl.element,
    h('h3', {}, 'Enrolment requirement'),
    required.element,
    h(
      'p',
      {},
      'Every registered user who is not exempt must configure two-factor authentication by their due date: their own, or the later of the Deadline (from 00:00 UTC that day) and the Grace days after they were registered or lost their last authenticator.',
    ),
    deadline.element,
    graceDays.element,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save')),
    status.element,
  );
}

type Field = ReturnType<typeof field<HTMLInputElement | HTMLSelectElement>>;
type Fields = Record<
  | 'issuer'
  | 'policy'
  | 'algorithm'
  | 'digits'
  | 'period'
  | 'window'
  | 'maxFailures'
  | 'lockSeconds'
  | 'setupTtl'
  | 'required'
  | 'deadline'
  | 'graceDays',
  Field
>;

/** The API's name of each setting (its messages start with it), and the form's field. */
const API_NAMES: [string, keyof Fields][] = [
  ['totp.algorithm', 'algorithm'],
  ['totp.digits', 'digits'],
  ['totp.period', 'period'],
  ['totp.window', 'window'],
  ['lockout.maxFailures', 'maxFailures'],
  ['lockout.lockSeconds', 'lockSeconds'],
  ['setupTtlSeconds', 'setupTtl'],
  ['enrolment.required', 'required'],
  ['enrolment.deadline', 'deadline'],
  ['enrolment.graceDays', 'graceDays'],
  ['policy', 'policy'],
  ['issuer', 'issuer'],
];

/**
 * The field an error is about, and its message in the field's own words: the API says
 * `lockout.lockSeconds must be an integer from 1 to 86400`, the admin reads
 * "Lock (seconds) must be a whole number from 1 to 86400".
 */
export function fieldOf(error: TfaApiError, all: Fields): { field: Field; message: string } | undefined {
  const found = API_NAMES.find(([name]) => error.message.startsWith(name));
  const key = error.code === 'invalid_issuer' ? 'issuer' : found?.[1];
  if (key === undefined) return undefined;
  const label = all[key].element.querySelector('label')?.textContent ?? key;
  const rest = found ? error.message.slice(found[0].length) : ` ${error.message.replace(/^issuer\s*/, '')}`;
  return { field: all[key], message: `${label}${rest.replace('an integer', 'a whole number')}` };
}
