"""What a typed sentence gets, on Predict and on a demo link: its label as the typing pauses,
then why.

Typing reruns only the `typed` fragment, and the label is drawn before the explanation is
computed. `names` maps each model the page may compare with (the shown one included) to how
the page names it; a demo link passes only its own model.
"""

import plotly.graph_objects as go
import streamlit as st

from dashboard.chart_text import chart_labels
from dashboard.insight_views import coloured_tokens, gate_heatmaps, gradient_bars
from dashboard.widgets import engine, md
from lstm_core.api import Explanation, ModelCard

TYPING_PAUSE = "250ms"  # the answer follows the typing, one prediction per pause


@st.cache_data(max_entries=16, show_spinner="Loading the model...")
def load_model(root: str, run_id: str) -> ModelCard:
    """The run's model loaded into the engine (shared by every session), and its card."""
    return engine().load_model(run_id)


@st.cache_data(max_entries=64, show_spinner="Looking inside the model...")
def explained(root: str, run_id: str, text: str) -> Explanation:
    return engine().explain(run_id, text)


def probabilities_chart(probabilities: dict) -> go.Figure:
    labels = list(probabilities)
    classes, whole = chart_labels(labels)
    figure = go.Figure(
        go.Bar(
            x=[probabilities[k] for k in labels],
            y=classes,
            customdata=whole,
            hovertemplate="%{customdata}: %{x:.3f}<extra></extra>",
            orientation="h",
            marker_color="#2E6FDB",
        )
    )
    figure.update_layout(
        height=80 + 40 * len(labels),
        xaxis={"range": [0, 1], "title": "probability"},
        yaxis={"type": "category"},
        margin={"t": 10},
    )
    return figure


@st.fragment
def typed(run_id: str, names: dict[str, str]) -> None:
    """The typed sentence's label, then why: all that a pause in typing reruns."""
    workbench = engine()
    card = load_model(str(workbench.root), run_id)
    sentence = st.text_input(
        "Type a sentence",
        key="pred_sentence",
        placeholder=f"A text for this model to label as {' or '.join(card.labels)}",
        help="The answer updates as you pause typing.",
        live=TYPING_PAUSE,
    )
    if not sentence.strip():
        return
    prediction = workbench.predict(run_id, [sentence])[0]
    cleaned = " ".join(workbench.reads(run_id, sentence).split())
    if cleaned != " ".join(sentence.split()):
        st.caption(
            "This model removes HTML tags and entities first, as from its training texts; "
            f"it reads: {md(cleaned) or '(nothing)'}"
        )
    if prediction.all_unknown:
        st.warning(
            "None of these words is in the model's vocabulary, so this answer only reflects "
            "how common each label was in training. Try words from the data set.",
            icon=":material/help:",
        )
    elif prediction.unknown_words:
        st.caption(
            "Words the model never saw (read as 'unknown'): "
            + md(", ".join(prediction.unknown_words))
        )
    left, right = st.columns([1, 2])
    left.markdown(f"Predicted label: **{md(prediction.label)}**")
    left.caption(f"{prediction.probabilities[prediction.label]:.1%} sure")
    right.plotly_chart(probabilities_chart(prediction.probabilities), key="pred_chart")
    why(run_id, sentence, names)


def why(run_id: str, sentence: str, names: dict[str, str]) -> None:
    """Token attributions, a what-if edit, the first layer's gates, and gradients."""
    workbench = engine()
    root = str(workbench.root)
    explanation = explained(root, run_id, sentence)
    st.subheader("Why this label")
    st.html(coloured_tokens(explanation))
    st.caption(
        f"Blue words push towards **{md(explanation.label)}**, red ones away from it (darker: "
        f"more). Method: {explanation.method}. The attributions add up to the probability's "
        f"change from the baseline within {abs(explanation.completeness_gap):.1e}. Dashed: "
        "a word the model does not know (it reads them all as one unknown word)."
        + (
            f" The model reads only the first {len(explanation.tokens)} words: "
            f"{explanation.unread_words} more were not read."
            if explanation.unread_words
            else ""
        )
    )
    key = f"pred_whatif_{run_id}"
    if st.session_state.get(f"{key}_of") != sentence:  # a new sentence: edit that one
        st.session_state[key] = st.session_state[f"{key}_of"] = sentence
    edited = st.text_input("What if the sentence read...", key=key)
    if edited.strip() and edited != sentence:
        after = workbench.predict(run_id, [edited])[0].probabilities
        st.dataframe(
            [
                {
                    "label": label,
                    "typed": before,
                    "edited": after[label],
                    "change": after[label] - before,
                }
                for label, before in explanation.probabilities.items()
            ],
            hide_index=True,
        )
    trace = explanation.gates
    if trace is not None:
        with st.expander(f"Inside the network: the first {trace.kind} layer, token by token"):
            st.caption(
                "Recomputed from the trained weights with the layer's own equations (a "
                "bidirectional layer: its forward half)."
            )
            gate_heatmaps(trace, [t.token for t in explanation.tokens], key="pred_gates")
    with st.expander("How much each word still moves the answer (vanishing gradients)"):
        series = {names[run_id]: explanation}
        others = [i for i in names if i != run_id]
        if others:
            compare = st.selectbox(
                "Compare with another model",
                [None, *others],
                format_func=lambda i: "none" if i is None else names[i],
                key="pred_gradient_other",
            )
            if compare is not None:
                series[names[compare]] = explained(root, compare, sentence)
        gradient_bars(series, key="pred_gradients")
        st.caption(
            "The size of the gradient of the predicted probability with respect to each "
            "word's embedding. A SimpleRNN's early words often get almost none: their signal "
            "has faded by the end of the text; an LSTM's cell carries it further."
        )
