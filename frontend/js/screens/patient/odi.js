/** The Oswestry Disability Index questionnaire in plain words: ten sections,
 * each answered 0..5 or left blank; the server scores it. Patients fill it in
 * for themselves; staff can enter it for a patient (#/patients/<id>/odi). */
import * as api from "../../core/api.js";
import { formatDay, h, heading, mount, percent, say, showErrors, statusArea, table } from "../../core/dom.js";
import { N_, t } from "../../core/i18n.js";

const MIN_ANSWERED = 8;

export const SECTIONS = [
  {
    title: N_("Pain right now"),
    question: N_("How strong is your pain at the moment?"),
    options: [
      N_("I have no pain right now."),
      N_("The pain is very mild."),
      N_("The pain is moderate."),
      N_("The pain is fairly strong."),
      N_("The pain is very strong."),
      N_("The pain is the worst I can imagine."),
    ],
  },
  {
    title: N_("Looking after yourself"),
    question: N_("Washing, dressing and other personal care:"),
    options: [
      N_("I manage normally and it does not make the pain worse."),
      N_("I manage normally, but it makes the pain worse."),
      N_("It hurts, so I go slowly and carefully."),
      N_("I need some help, but I do most of it myself."),
      N_("I need help every day with most of it."),
      N_("I cannot get dressed; washing is hard and I stay in bed."),
    ],
  },
  {
    title: N_("Lifting"),
    question: N_("Lifting and carrying things:"),
    options: [
      N_("I can lift heavy things and it does not make the pain worse."),
      N_("I can lift heavy things, but it makes the pain worse."),
      N_(
        "Pain stops me lifting heavy things off the floor, but I can if they are at a handy height, such as on a table.",
      ),
      N_("Pain stops me lifting heavy things, but I can manage light or medium things at a handy height."),
      N_("I can lift only very light things."),
      N_("I cannot lift or carry anything."),
    ],
  },
  {
    title: N_("Walking"),
    question: N_("How far can you walk?"),
    options: [
      N_("Pain does not stop me walking any distance."),
      N_("Pain stops me walking more than about 1.5 km (1 mile)."),
      N_("Pain stops me walking more than about 800 m (half a mile)."),
      N_("Pain stops me walking more than about 400 m (a quarter of a mile)."),
      N_("I can only walk with a stick or crutches."),
      N_("I am in bed most of the time."),
    ],
  },
  {
    title: N_("Sitting"),
    question: N_("How long can you sit?"),
    options: [
      N_("I can sit in any chair for as long as I like."),
      N_("I can sit for as long as I like, but only in my favourite chair."),
      N_("Pain stops me sitting for more than an hour."),
      N_("Pain stops me sitting for more than half an hour."),
      N_("Pain stops me sitting for more than 10 minutes."),
      N_("Pain stops me sitting at all."),
    ],
  },
  {
    title: N_("Standing"),
    question: N_("How long can you stand?"),
    options: [
      N_("I can stand for as long as I like and it does not make the pain worse."),
      N_("I can stand for as long as I like, but it makes the pain worse."),
      N_("Pain stops me standing for more than an hour."),
      N_("Pain stops me standing for more than half an hour."),
      N_("Pain stops me standing for more than 10 minutes."),
      N_("Pain stops me standing at all."),
    ],
  },
  {
    title: N_("Sleeping"),
    question: N_("How does pain affect your sleep?"),
    options: [
      N_("Pain never wakes me or keeps me awake."),
      N_("Pain sometimes disturbs my sleep."),
      N_("Because of pain I sleep less than 6 hours."),
      N_("Because of pain I sleep less than 4 hours."),
      N_("Because of pain I sleep less than 2 hours."),
      N_("Pain stops me sleeping at all."),
    ],
  },
  {
    title: N_("Sex life"),
    question: N_("If this applies to you (you may skip it):"),
    optional: true,
    options: [
      N_("My sex life is normal and does not make the pain worse."),
      N_("My sex life is normal, but makes the pain somewhat worse."),
      N_("My sex life is nearly normal, but very painful."),
      N_("My sex life is severely limited by pain."),
      N_("My sex life is nearly absent because of pain."),
      N_("Pain prevents any sex life at all."),
    ],
  },
  {
    title: N_("Social life"),
    question: N_("Seeing people, going out, hobbies:"),
    options: [
      N_("My social life is normal and does not make the pain worse."),
      N_("My social life is normal, but it makes the pain worse."),
      N_("Pain only stops my more energetic interests, such as sport."),
      N_("Pain has limited my social life and I go out less often."),
      N_("Pain has limited my social life to my home."),
      N_("I have no social life because of pain."),
    ],
  },
  {
    title: N_("Travelling"),
    question: N_("Journeys by car, bus or train:"),
    options: [
      N_("I can travel anywhere without pain."),
      N_("I can travel anywhere, but it makes the pain worse."),
      N_("Pain is bad, but I manage journeys of over 2 hours."),
      N_("Pain limits me to journeys of under an hour."),
      N_("Pain limits me to short, necessary journeys of under 30 minutes."),
      N_("Pain stops me travelling, except to get treatment."),
    ],
  },
];

const BANDS = {
  minimal: N_("Minimal disability: most daily activities are possible."),
  moderate: N_("Moderate disability: sitting, lifting and standing may be harder."),
  severe: N_("Severe disability: pain is a main problem in daily life."),
  crippling: N_("Pain affects every part of daily life."),
  "bed-bound": N_("Mostly confined to bed."),
};

const BAND_NAMES = {
  minimal: N_("minimal"),
  moderate: N_("moderate"),
  severe: N_("severe"),
  crippling: N_("crippling"),
  "bed-bound": N_("bed-bound"),
};

/** A score band's name ("minimal", ...) in the language in use. */
export function bandName(band) {
  return band in BAND_NAMES ? t(BAND_NAMES[band]) : band;
}

/** The questionnaire history as a table (also used by the progress screens). */
export function odiTable(history, caption = t("Questionnaire results")) {
  const rows = [...history].sort((a, b) => (a.taken_on < b.taken_on ? 1 : -1));
  return table(
    caption,
    [
      { label: t("Date"), value: (r) => h("span", { "data-l10n-skip": "" }, formatDay(r.taken_on)) },
      { label: t("Score"), value: (r) => percent(Math.round(r.score_pct) / 100), numeric: true },
      { label: t("Band"), value: (r) => bandName(r.band) },
      { label: t("Sections answered"), value: (r) => t("{answered} of 10", { answered: r.answered }), numeric: true },
    ],
    rows,
    { empty: t("No questionnaires yet.") },
  );
}

export async function render(view, { user, params }) {
  const patientId = params[0] ? Number(params[0]) : user.id;
  const forSelf = patientId === user.id;
  let patientName = "";
  if (!forSelf) patientName = (await api.get(`/api/patients/${patientId}`)).name;

  const message = statusArea("alert");
  say(message, "");
  const result = h("div", { class: "odi-result", tabindex: "-1" });
  const sections = SECTIONS.map((section, index) => sectionFieldset(section, index));
  const submit = h("button", { type: "submit" }, t("Submit questionnaire"));
  const form = h("form", { class: "odi-form", novalidate: true }, sections, message, submit);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answers = SECTIONS.map((_, index) => {
      const checked = form.querySelector(`input[name="odi-${index}"]:checked`);
      return checked ? Number(checked.value) : null;
    });
    const answered = answers.filter((a) => a !== null).length;
    if (answered < MIN_ANSWERED) {
      say(
        message,
        t("Please answer at least {needed} of the 10 sections (you have answered {answered}).", {
          needed: MIN_ANSWERED,
          answered,
        }),
        "error",
      );
      form.querySelector("fieldset:not(.answered) input")?.focus();
      return;
    }
    submit.disabled = true;
    say(message, "");
    try {
      const saved = await api.post(`/api/patients/${patientId}/questionnaires/odi`, { answers });
      form.hidden = true; // answered for today; the result replaces it
      showResult(saved);
    } catch (error) {
      if (error.offline)
        say(
          message,
          t("You are offline. Your answers are still here; submit again when you are back online."),
          "error",
        );
      else showErrors(form, error, message);
    } finally {
      submit.disabled = false;
    }
  });

  function showResult(saved) {
    mount(
      result,
      h("h2", {}, t("Result")),
      h(
        "p",
        { class: "odi-score" },
        h("strong", {}, percent(Math.round(saved.score_pct) / 100)),
        ` — ${bandName(saved.band)}`,
      ),
      h("p", {}, BANDS[saved.band] ? t(BANDS[saved.band]) : ""),
      h(
        "p",
        { class: "hint" },
        t("Based on {answered} of 10 sections, {day}.", { answered: saved.answered, day: formatDay(saved.taken_on) }),
      ),
      forSelf
        ? h("p", {}, h("a", { href: "#/progress" }, t("See your progress")))
        : h("p", {}, h("a", { href: `#/patients/${patientId}` }, t("Back to {name}", { name: patientName }))),
    );
    result.classList.add("card");
    result.focus();
  }

  mount(
    view,
    heading(forSelf ? t("Back-pain questionnaire") : t("Back-pain questionnaire for {name}", { name: patientName })),
    h(
      "p",
      { class: "lead" },
      forSelf
        ? t(
            "Ten short sections about how your back affects daily life. In each, pick the one sentence that fits you best today. You can leave a section blank if it does not apply.",
          )
        : t("Enter the patient's answers. Sections may be left blank; at least 8 are needed for a score."),
    ),
    h(
      "p",
      { class: "other-questionnaire" },
      `${t("Another short one:")} `,
      h("a", { href: forSelf ? "#/psfs" : `#/patients/${patientId}/psfs` }, t("Daily activities (PSFS)")),
      forSelf ? ` — ${t("rate up to three activities your back makes hard.")}` : ".",
    ),
    result,
    form,
  );
}

function sectionFieldset(section, index) {
  const name = `odi-${index}`;
  const legendId = `${name}-legend`;
  const fieldset = h(
    "fieldset",
    { class: "odi-section card" },
    h("legend", { id: legendId }, `${index + 1}. ${t(section.title)}${section.optional ? ` ${t("(optional)")}` : ""}`),
    h("p", { class: "hint" }, t(section.question)),
    section.options.map((text, score) => {
      const id = `${name}-${score}`;
      return h(
        "div",
        { class: "choice" },
        h("input", { type: "radio", name, id, value: String(score) }),
        h("label", { for: id }, t(text)),
      );
    }),
    h(
      "button",
      {
        type: "button",
        class: "link-button clear-answer",
        "aria-label": t("Clear answer: {section}", { section: t(section.title) }),
        onclick: (event) => {
          const set = event.currentTarget.closest("fieldset");
          set.querySelectorAll("input").forEach((input) => (input.checked = false));
          set.classList.remove("answered");
          set.querySelector("input").focus();
        },
      },
      t("Clear answer"),
    ),
  );
  fieldset.addEventListener("change", () => fieldset.classList.add("answered"));
  return fieldset;
}
