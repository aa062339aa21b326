"""Minimal GPT-2-style and LLaMA-style causal LMs in PyTorch, written from the Hugging Face
definitions (transformers' modeling_gpt2.py / modeling_llama.py) with exactly their parameter
names and layouts, so that a state_dict here loads into HF and into Prox Lab's TS core by name.

These are the reference side for src/core/nn: golden fixtures (make_fixtures.py) and the
PyTorch training benchmark (train_bench.py). No dropout anywhere (HF defaults are 0.1 for GPT-2;
the references are computed as if in eval mode / dropout 0).
"""
import math
from dataclasses import dataclass, asdict
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

IGNORE_INDEX = -100
LOSS_CONVENTION = "hf_shifted_mean_ce"


@dataclass
class GPT2Config:
    vocab_size: int = 64
    n_positions: int = 16  # context length (wpe rows)
    n_embd: int = 32
    n_layer: int = 2
    n_head: int = 4
    n_inner: Optional[int] = None  # MLP width; None = 4 * n_embd as in HF
    layer_norm_epsilon: float = 1e-5
    activation_function: str = "gelu_new"  # tanh approximation
    tie_word_embeddings: bool = True

    @property
    def inner(self) -> int:
        return self.n_inner if self.n_inner is not None else 4 * self.n_embd

    def to_dict(self):
        d = asdict(self)
        d["family"] = "gpt2"
        d["n_inner"] = self.inner
        d["head_dim"] = self.n_embd // self.n_head
        return d


@dataclass
class LlamaConfig:
    vocab_size: int = 64
    max_position_embeddings: int = 16
    hidden_size: int = 32
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2  # < num_attention_heads = grouped-query attention
    intermediate_size: int = 88
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    hidden_act: str = "silu"
    tie_word_embeddings: bool = False

    def to_dict(self):
        d = asdict(self)
        d["family"] = "llama"
        d["head_dim"] = self.hidden_size // self.num_attention_heads
        return d


def default_llama_intermediate(d_model: int) -> int:
    """8/3 * d rounded up to a multiple of 8 (d=32 -> 88, 256 -> 688, 512 -> 1368)."""
    return int(math.ceil(8 * d_model / 3 / 8) * 8)


# ----------------------------------------------------------------------------------------------
# GPT-2
# ----------------------------------------------------------------------------------------------


class Conv1D(nn.Module):
    """HF's GPT-2 Conv1D: a linear layer whose weight is stored [in, out]; y = x @ W + b."""

    def __init__(self, nf: int, nx: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.size(-1)), self.weight).view(*x.shape[:-1], -1)


def gelu_new(x):
    """HF "gelu_new": 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def causal_mask(t: int, device) -> torch.Tensor:
    """[T, T] bool, True where key position <= query position (allowed)."""
    return torch.tril(torch.ones(t, t, dtype=torch.bool, device=device))


class GPT2Attention(nn.Module):
    def __init__(self, cfg: GPT2Config):
        super().__init__()
        self.n_head = cfg.n_head
        self.head_dim = cfg.n_embd // cfg.n_head
        assert self.head_dim * self.n_head == cfg.n_embd, "n_embd must be divisible by n_head"
        self.c_attn = Conv1D(3 * cfg.n_embd, cfg.n_embd)  # fused q, k, v in that order
        self.c_proj = Conv1D(cfg.n_embd, cfg.n_embd)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.c_attn(x).split(d, dim=2)
        # [B, T, d] -> [B, H, T, hd]
        q, k, v = (z.view(b, t, self.n_head, self.head_dim).permute(0, 2, 1, 3) for z in (q, k, v))
        w = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        w = torch.where(causal_mask(t, x.device), w, torch.tensor(torch.finfo(w.dtype).min, dtype=w.dtype))
        w = torch.softmax(w, dim=-1)
        y = torch.matmul(w, v).permute(0, 2, 1, 3).reshape(b, t, d)
        return self.c_proj(y)


class GPT2MLP(nn.Module):
    def __init__(self, cfg: GPT2Config):
        super().__init__()
        self.c_fc = Conv1D(cfg.inner, cfg.n_embd)
        self.c_proj = Conv1D(cfg.n_embd, cfg.inner)

    def forward(self, x):
        return self.c_proj(gelu_new(self.c_fc(x)))


class GPT2Block(nn.Module):
    def __init__(self, cfg: GPT2Config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.attn = GPT2Attention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.mlp = GPT2MLP(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT2Model(nn.Module):
    def __init__(self, cfg: GPT2Config):
        super().__init__()
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.n_positions, cfg.n_embd)
        self.h = nn.ModuleList([GPT2Block(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)

    def forward(self, input_ids):
        t = input_ids.shape[1]
        pos = torch.arange(t, device=input_ids.device)
        x = self.wte(input_ids) + self.wpe(pos)[None]
        for block in self.h:
            x = block(x)
        return self.ln_f(x)


class GPT2LMHeadModel(nn.Module):
    def __init__(self, cfg: GPT2Config):
        super().__init__()
        assert cfg.tie_word_embeddings, "GPT-2 reference always ties lm_head to wte"
        self.config = cfg
        self.transformer = GPT2Model(cfg)

    def forward(self, input_ids):
        h = self.transformer(input_ids)
        return torch.matmul(h, self.transformer.wte.weight.t())  # lm_head tied to wte

    def norm_param_names(self):
        return [n for n, _ in self.named_parameters() if ".ln_" in n or n.startswith("transformer.ln_f")]


# ----------------------------------------------------------------------------------------------
# LLaMA
# ----------------------------------------------------------------------------------------------


class LlamaRMSNorm(nn.Module):
    def __init__(self, d: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        # HF: compute in float32 (upcasts half precision). For a float64 model we stay in float64
        # (so grad64 fixtures are a true double-precision reference), never downcast.
        compute = torch.promote_types(x.dtype, torch.float32)
        h = x.to(compute)
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(x.dtype)


def rotary_cos_sin(t: int, head_dim: int, theta: float, dtype, device):
    """HF LlamaRotaryEmbedding: inv_freq = 1 / theta^(2i/d); emb = cat(freqs, freqs); cos/sin [T, hd].
    Computed in float32 as HF does (float64 for a float64 model, so grad64 stays double throughout)."""
    compute = torch.promote_types(dtype, torch.float32)
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).to(device, compute) / head_dim))
    pos = torch.arange(t, device=device, dtype=compute)
    freqs = torch.outer(pos, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def rotate_half(x):
    """HF rotate_half: [x1, x2] -> [-x2, x1] with x1, x2 the two halves of the last dim."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary(x, cos, sin):
    return x * cos + rotate_half(x) * sin


def repeat_kv(x, rep: int):
    """HF repeat_kv: [B, n_kv, T, hd] -> [B, n_kv * rep, T, hd]; query head h reads kv head h // rep."""
    b, n_kv, t, hd = x.shape
    return x[:, :, None, :, :].expand(b, n_kv, rep, t, hd).reshape(b, n_kv * rep, t, hd)


class LlamaAttention(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.n_head = cfg.num_attention_heads
        self.n_kv = cfg.num_key_value_heads
        self.head_dim = cfg.hidden_size // cfg.num_attention_heads
        assert self.head_dim * self.n_head == cfg.hidden_size, "hidden_size must be divisible by heads"
        assert self.n_head % self.n_kv == 0, "num_attention_heads must be a multiple of num_key_value_heads"
        self.theta = cfg.rope_theta
        d = cfg.hidden_size
        self.q_proj = nn.Linear(d, self.n_head * self.head_dim, bias=False)
        self.k_proj = nn.Linear(d, self.n_kv * self.head_dim, bias=False)
        self.v_proj = nn.Linear(d, self.n_kv * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.n_head * self.head_dim, d, bias=False)

    def forward(self, x):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.n_head, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.n_kv, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.n_kv, self.head_dim).transpose(1, 2)
        cos, sin = rotary_cos_sin(t, self.head_dim, self.theta, x.dtype, x.device)
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        rep = self.n_head // self.n_kv
        k, v = repeat_kv(k, rep), repeat_kv(v, rep)
        w = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim)
        w = torch.where(causal_mask(t, x.device), w, torch.tensor(torch.finfo(w.dtype).min, dtype=w.dtype))
        w = torch.softmax(w, dim=-1, dtype=torch.promote_types(w.dtype, torch.float32)).to(q.dtype)
        y = torch.matmul(w, v).transpose(1, 2).reshape(b, t, self.n_head * self.head_dim)
        return self.o_proj(y)


class LlamaMLP(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.up_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaDecoderLayer(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.input_layernorm = LlamaRMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = LlamaAttention(cfg)
        self.post_attention_layernorm = LlamaRMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.mlp = LlamaMLP(cfg)

    def forward(self, x):
        x = x + self.self_attn(self.input_layernorm(x))
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaModel(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList([LlamaDecoderLayer(cfg) for _ in range(cfg.num_hidden_layers)])
        self.norm = LlamaRMSNorm(cfg.hidden_size, cfg.rms_norm_eps)

    def forward(self, input_ids):
        x = self.embed_tokens(input_ids)
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)


class LlamaForCausalLM(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.config = cfg
        self.model = LlamaModel(cfg)
        if not cfg.tie_word_embeddings:
            self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)

    def forward(self, input_ids):
        h = self.model(input_ids)
        if self.config.tie_word_embeddings:
            return torch.matmul(h, self.model.embed_tokens.weight.t())
        return self.lm_head(h)

    def norm_param_names(self):
        return [n for n, _ in self.named_parameters() if n.endswith("layernorm.weight") or n == "model.norm.weight"]


# ----------------------------------------------------------------------------------------------
# Loss and construction
# ----------------------------------------------------------------------------------------------


def causal_lm_loss(logits, labels):
    """HF convention ("hf_shifted_mean_ce"): position t predicts labels[t+1]; mean cross-entropy
    over the (B, T-1) shifted targets whose label != -100."""
    v = logits.shape[-1]
    shift_logits = logits[:, :-1, :].reshape(-1, v)
    shift_labels = labels[:, 1:].reshape(-1)
    return F.cross_entropy(shift_logits, shift_labels, ignore_index=IGNORE_INDEX, reduction="mean")


def build_model(family: str, **kw):
    if family == "gpt2":
        return GPT2LMHeadModel(GPT2Config(**kw))
    if family == "llama":
        return LlamaForCausalLM(LlamaConfig(**kw))
    raise ValueError(f"family must be 'gpt2' or 'llama', got {family!r}")


def init_params(model, seed: int, std: float, norm_noise: float, bias_std: float):
    """Deterministic init: every matrix / embedding N(0, std); norm weights 1 + N(0, norm_noise);
    norm (LayerNorm) biases and linear biases N(0, bias_std). Non-trivial norms and biases make
    their gradients non-trivial too."""
    g = torch.Generator().manual_seed(seed)
    norms = set(model.norm_param_names())
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g, dtype=torch.float64)
            if name in norms and name.endswith(".weight"):
                val = 1.0 + norm_noise * noise
            elif name.endswith(".bias"):
                val = bias_std * noise
            else:
                val = std * noise
            p.copy_(val.to(p.dtype))


def matmul_param_count(model) -> int:
    """Parameters that take part in a matmul per token: every 2-D weight except the embedding
    lookup tables, plus the lm_head matrix (which for tied models is the token embedding)."""
    n = 0
    for name, p in model.named_parameters():
        if p.dim() != 2:
            continue
        if name.endswith("wte.weight") or name.endswith("wpe.weight") or name.endswith("embed_tokens.weight"):
            continue
        n += p.numel()
    cfg = model.config
    if getattr(cfg, "tie_word_embeddings", False):
        d = cfg.n_embd if isinstance(cfg, GPT2Config) else cfg.hidden_size
        n += cfg.vocab_size * d
    return n
