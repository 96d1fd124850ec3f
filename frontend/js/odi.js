/** The Oswestry Disability Index questionnaire in plain words: ten sections,
 * each answered 0..5 or left blank; the server scores it. Patients fill it in
 * for themselves; staff can enter it for a patient (#/patients/<id>/odi). */
import * as api from "./api.js";
import { formatDay, h, heading, mount, say, showErrors, statusArea, table } from "./dom.js";

const MIN_ANSWERED = 8;

export const SECTIONS = [
  {
    title: "Pain right now",
    question: "How strong is your pain at the moment?",
    options: ["I have no pain right now.", "The pain is very mild.", "The pain is moderate.", "The pain is fairly strong.", "The pain is very strong.", "The pain is the worst I can imagine."],
  },
  {
    title: "Looking after yourself",
    question: "Washing, dressing and other personal care:",
    options: [
      "I manage normally and it does not make the pain worse.",
      "I manage normally, but it makes the pain worse.",
      "It hurts, so I go slowly and carefully.",
      "I need some help, but I do most of it myself.",
      "I need help every day with most of it.",
      "I cannot get dressed; washing is hard and I stay in bed.",
    ],
  },
  {
    title: "Lifting",
    question: "Lifting and carrying things:",
    options: [
      "I can lift heavy things and it does not make the pain worse.",
      "I can lift heavy things, but it makes the pain worse.",
      "Pain stops me lifting heavy things off the floor, but I can if they are at a handy height, such as on a table.",
      "Pain stops me lifting heavy things, but I can manage light or medium things at a handy height.",
      "I can lift only very light things.",
      "I cannot lift or carry anything.",
    ],
  },
  {
    title: "Walking",
    question: "How far can you walk?",
    options: [
      "Pain does not stop me walking any distance.",
      "Pain stops me walking more than about 1.5 km (1 mile).",
      "Pain stops me walking more than about 800 m (half a mile).",
      "Pain stops me walking more than about 400 m (a quarter of a mile).",
      "I can only walk with a stick or crutches.",
      "I am in bed most of the time.",
    ],
  },
  {
    title: "Sitting",
    question: "How long can you sit?",
    options: [
      "I can sit in any chair for as long as I like.",
      "I can sit for as long as I like, but only in my favourite chair.",
      "Pain stops me sitting for more than an hour.",
      "Pain stops me sitting for more than half an hour.",
      "Pain stops me sitting for more than 10 minutes.",
      "Pain stops me sitting at all.",
    ],
  },
  {
    title: "Standing",
    question: "How long can you stand?",
    options: [
      "I can stand for as long as I like and it does not make the pain worse.",
      "I can stand for as long as I like, but it makes the pain worse.",
      "Pain stops me standing for more than an hour.",
      "Pain stops me standing for more than half an hour.",
      "Pain stops me standing for more than 10 minutes.",
      "Pain stops me standing at all.",
    ],
  },
  {
    title: "Sleeping",
    question: "How does pain affect your sleep?",
    options: [
      "Pain never wakes me or keeps me awake.",
      "Pain sometimes disturbs my sleep.",
      "Because of pain I sleep less than 6 hours.",
      "Because of pain I sleep less than 4 hours.",
      "Because of pain I sleep less than 2 hours.",
      "Pain stops me sleeping at all.",
    ],
  },
  {
    title: "Sex life",
    question: "If this applies to you (you may skip it):",
    optional: true,
    options: [
      "My sex life is normal and does not make the pain worse.",
      "My sex life is normal, but makes the pain somewhat worse.",
      "My sex life is nearly normal, but very painful.",
      "My sex life is severely limited by pain.",
      "My sex life is nearly absent because of pain.",
      "Pain prevents any sex life at all.",
    ],
  },
  {
    title: "Social life",
    question: "Seeing people, going out, hobbies:",
    options: [
      "My social life is normal and does not make the pain worse.",
      "My social life is normal, but it makes the pain worse.",
      "Pain only stops my more energetic interests, such as sport.",
      "Pain has limited my social life and I go out less often.",
      "Pain has limited my social life to my home.",
      "I have no social life because of pain.",
    ],
  },
  {
    title: "Travelling",
    question: "Journeys by car, bus or train:",
    options: [
      "I can travel anywhere without pain.",
      "I can travel anywhere, but it makes the pain worse.",
      "Pain is bad, but I manage journeys of over 2 hours.",
      "Pain limits me to journeys of under an hour.",
      "Pain limits me to short, necessary journeys of under 30 minutes.",
      "Pain stops me travelling, except to get treatment.",
    ],
  },
];

const BANDS = {
  minimal: "Minimal disability: most daily activities are possible.",
  moderate: "Moderate disability: sitting, lifting and standing may be harder.",
  severe: "Severe disability: pain is a main problem in daily life.",
  crippling: "Pain affects every part of daily life.",
  "bed-bound": "Mostly confined to bed.",
};

/** The questionnaire history as a table (also used by the progress screens). */
export function odiTable(history, caption = "Questionnaire results") {
  const rows = [...history].sort((a, b) => (a.taken_on < b.taken_on ? 1 : -1));
  return table(
    caption,
    [
      { label: "Date", value: (r) => formatDay(r.taken_on) },
      { label: "Score", value: (r) => `${Math.round(r.score_pct)}%`, numeric: true },
      { label: "Band", value: (r) => r.band },
      { label: "Sections answered", value: (r) => `${r.answered} of 10`, numeric: true },
    ],
    rows,
    { empty: "No questionnaires yet." },
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
  const submit = h("button", { type: "submit" }, "Submit questionnaire");
  const form = h("form", { class: "odi-form", novalidate: true }, sections, message, submit);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answers = SECTIONS.map((_, index) => {
      const checked = form.querySelector(`input[name="odi-${index}"]:checked`);
      return checked ? Number(checked.value) : null;
    });
    const answered = answers.filter((a) => a !== null).length;
    if (answered < MIN_ANSWERED) {
      say(message, `Please answer at least ${MIN_ANSWERED} of the 10 sections (you have answered ${answered}).`, "error");
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
      if (error.offline) say(message, "You are offline. Your answers are still here; submit again when you are back online.", "error");
      else showErrors(form, error, message);
    } finally {
      submit.disabled = false;
    }
  });

  function showResult(saved) {
    mount(
      result,
      h("h2", {}, "Result"),
      h("p", { class: "odi-score" }, h("strong", {}, `${Math.round(saved.score_pct)}%`), ` — ${saved.band}`),
      h("p", {}, BANDS[saved.band] || ""),
      h("p", { class: "hint" }, `Based on ${saved.answered} of 10 sections, ${formatDay(saved.taken_on)}.`),
      forSelf ? h("p", {}, h("a", { href: "#/progress" }, "See your progress")) : h("p", {}, h("a", { href: `#/patients/${patientId}` }, `Back to ${patientName}`)),
    );
    result.classList.add("card");
    result.focus();
  }

  mount(
    view,
    heading(forSelf ? "Back-pain questionnaire" : `Back-pain questionnaire for ${patientName}`),
    h(
      "p",
      { class: "lead" },
      forSelf
        ? "Ten short sections about how your back affects daily life. In each, pick the one sentence that fits you best today. You can leave a section blank if it does not apply."
        : "Enter the patient's answers. Sections may be left blank; at least 8 are needed for a score.",
    ),
    h(
      "p",
      { class: "other-questionnaire" },
      "Another short one: ",
      h("a", { href: forSelf ? "#/psfs" : `#/patients/${patientId}/psfs` }, "Daily activities (PSFS)"),
      forSelf ? " — rate up to three activities your back makes hard." : ".",
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
    h("legend", { id: legendId }, `${index + 1}. ${section.title}${section.optional ? " (optional)" : ""}`),
    h("p", { class: "hint" }, section.question),
    section.options.map((text, score) => {
      const id = `${name}-${score}`;
      return h("div", { class: "choice" }, h("input", { type: "radio", name, id, value: String(score) }), h("label", { for: id }, text));
    }),
    h(
      "button",
      {
        type: "button",
        class: "link-button clear-answer",
        "aria-label": `Clear answer: ${section.title}`,
        onclick: (event) => {
          const set = event.currentTarget.closest("fieldset");
          set.querySelectorAll("input").forEach((input) => (input.checked = false));
          set.classList.remove("answered");
          set.querySelector("input").focus();
        },
      },
      "Clear answer",
    ),
  );
  fieldset.addEventListener("change", () => fieldset.classList.add("answered"));
  return fieldset;
}
