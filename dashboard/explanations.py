"""What each layer computes, for the student who meets it on the Experiment page.

The equations follow Keras' own layers (its GRU keeps the old state with z, and has two
bias vectors, `reset_after=True`), so the parameter counts match the model summaries the
page shows. n is the number of units, m the size of each input vector (the embedding
dimension for the first layer).
"""

import streamlit as st


def architecture_guide() -> None:
    with st.expander("What do SimpleRNN, LSTM, GRU, the bidirectional layers and the CNN compute?"):
        st.markdown(
            "Each layer reads the text one word vector $x_t$ at a time and keeps a state "
            "$h_t$ of n numbers (the **units**); the classifier sees the last state. "
            "$\\sigma$ is the logistic function (0 to 1, a gate's *how much*), "
            "$\\odot$ multiplies element by element."
        )
        st.markdown("**SimpleRNN**: the new state mixes the word and the old state.")
        st.latex(r"h_t = \tanh(W x_t + U h_{t-1} + b)")
        st.caption("Weights: n(m + n + 1). Gradients shrink over many steps, so early words fade.")
        st.markdown(
            "**LSTM**: a memory cell $c_t$ that three gates protect. The *forget* gate "
            "decides what to keep of the old memory, the *input* gate how much of the new "
            "candidate to write, the *output* gate how much of the memory to show."
        )
        st.latex(
            r"\begin{aligned}"
            r"f_t &= \sigma(W_f x_t + U_f h_{t-1} + b_f) &"
            r"i_t &= \sigma(W_i x_t + U_i h_{t-1} + b_i) \\"
            r"o_t &= \sigma(W_o x_t + U_o h_{t-1} + b_o) &"
            r"\tilde c_t &= \tanh(W_c x_t + U_c h_{t-1} + b_c) \\"
            r"c_t &= f_t \odot c_{t-1} + i_t \odot \tilde c_t &"
            r"h_t &= o_t \odot \tanh(c_t)"
            r"\end{aligned}"
        )
        st.caption(
            "Weights: 4n(m + n + 1), four times a SimpleRNN's. Because the cell is updated "
            "by addition, information and gradients survive long texts."
        )
        st.markdown(
            "**GRU**: no separate cell; an *update* gate $z_t$ chooses between the old "
            "state and a candidate, a *reset* gate $r_t$ how much of the old state the "
            "candidate may use."
        )
        st.latex(
            r"\begin{aligned}"
            r"z_t &= \sigma(W_z x_t + U_z h_{t-1} + b_z) &"
            r"r_t &= \sigma(W_r x_t + U_r h_{t-1} + b_r) \\"
            r"\tilde h_t &= \tanh(W_h x_t + r_t \odot (U_h h_{t-1} + b'_h) + b_h) &"
            r"h_t &= z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t"
            r"\end{aligned}"
        )
        st.caption("Weights: 3n(m + n + 2) in Keras (two bias vectors); often as good as LSTM.")
        st.markdown(
            "**Bidirectional (BiLSTM, BiGRU)**: two copies of the layer, one reading left to "
            "right and one right to left, their last states joined (2n numbers). Twice the "
            "weights and about twice the time; it helps when the end of a text explains its "
            "beginning."
        )
        st.markdown(
            "**1-D CNN**, the contrast to recurrence: no state carried from word to word. "
            "Each of n *filters* looks at k neighbouring word vectors at a time (the "
            "**kernel size**) and slides along the text; global max pooling keeps each "
            "filter's strongest match anywhere in it."
        )
        st.latex(
            r"y_{t} = \mathrm{relu}(W [x_t; x_{t+1}; \dots; x_{t+k-1}] + b), \quad h = \max_t y_t"
        )
        st.caption(
            "Weights: n(km + 1). It sees phrases of k words wherever they stand, fast and in "
            "parallel, but not their order beyond k words."
        )
