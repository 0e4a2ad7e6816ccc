#!/usr/bin/env python3
"""Golden test fixtures from the AutoGAN reference PyTorch code (TAMU-VITA/AutoGAN).

What it makes
-------------
Under --out (default: test/fixtures/reference/ of this repository):
  gen_search_*.npz   models_search.shared_gan.Generator (the supernet), one case per arch vector
  gen_model_a.npz    models.autogan_cifar10_a.Generator (published model A, fixed layout)
  dis_stage{0,1,2}.npz  models_search.shared_gan.Discriminator, d_spectral_norm=True
  ctrl_stage{0,1,2}.npz models_search.controller.Controller: sampling + 3 REINFORCE steps
  manifest.json      every case: file, kind, config, arch vector, array keys/shapes/dtypes,
                     reference commit, torch/numpy versions
Every array is float32 ('<f4') or float64 ('<f8'); integers (actions, archs, indices) are stored
as float32. The key layout is documented in test/fixtures/reference/README.md.

How to run
----------
  mkdir -p /tmp/autogan-ref && git --git-dir=<mirror>/TAMU-VITA+AutoGAN/repo/.git archive HEAD \
      | tar -x -C /tmp/autogan-ref
  python tools/reference-fixtures/make_autogan_fixtures.py --reference /tmp/autogan-ref
  python tools/reference-fixtures/make_autogan_fixtures.py --reference /tmp/autogan-ref --verify
--verify generates everything twice into temporary folders, checks the two runs are byte-identical
and identical to the files in --out, re-runs the semantic self-checks (arch coverage, model A ==
supernet with arch 1 0 1 1 1 0 0 1 1 1 0 1 0 3), and then re-derives every stored output from the
npz contents alone with small functional torch code written from the README (independent_check),
which checks the README's description of the semantics, not only the data.

Needs: torch (CPU is enough) and numpy. Only these reference modules are imported, from the
--reference folder added to sys.path (nothing of the reference is copied here):
  models_search.shared_gan, models_search.building_blocks_search, models_search.controller,
  models.autogan_cifar10_a (+ models.building_blocks).
`Controller.initHidden` calls .cuda(); it is monkeypatched here to return CPU zeros. The REINFORCE
math of functions.train_controller is reproduced below (functions.py imports imageio, torchvision,
tensorflow-backed IS/FID code, so it is not imported).

Reference commit used: e481c7f25ce38f0387920b5c314208725ac5ba99 (REFERENCE_COMMIT below).

Seeds: every case reseeds torch.manual_seed(seed) and np.random.seed(seed) before building its
model: generator supernet case i (0-based, in GEN_CASES order) uses 1000+i, model A 2000,
discriminator stage s 3000+s+10k for the first k = 0, 1, ... whose hinge D loss has both terms active
and one inactive element (stages 0, 1, 2 -> 3000, 3001, 3122; recorded in the manifest), controller
stage s 4000+s. torch runs single-threaded on CPU.
"""
import argparse
import copy
import hashlib
import io
import json
import os
import platform
import re
import sys
import tempfile
import zipfile

import numpy as np

REFERENCE_COMMIT = 'e481c7f25ce38f0387920b5c314208725ac5ba99'
REFERENCE_FILES = [
    'models_search/shared_gan.py',
    'models_search/building_blocks_search.py',
    'models_search/controller.py',
    'models/autogan_cifar10_a.py',
    'models/building_blocks.py',
    'functions.py',
    'cfg.py',
]

# Small sizes (the reference defaults are gf_dim 256, df_dim 128, latent_dim 128, hid_size 100).
GF_DIM, DF_DIM, LATENT_DIM, BOTTOM_WIDTH, BATCH, HID_SIZE = 8, 8, 16, 4, 4, 16
# REINFORCE settings (cfg.py defaults: ctrl_lr 3.5e-4, beta1 0.0, beta2 0.9, entropy_coeff 1e-3,
# baseline_decay 0.9, ctrl_sample_batch 1).
CTRL_LR, BETA1, BETA2, ENTROPY_COEFF, BASELINE_DECAY, CTRL_SAMPLE_BATCH = 3.5e-4, 0.0, 0.9, 1e-3, 0.9, 1
FAKE_IS_SCORES = [3.1, 4.2, 3.7]

# (name, arch vector, save per-cell intermediates?, description)
GEN_CASES = [
    ('top1', [1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0, 3], True,
     "paper's top-1 arch (= model A): pre, no norm; cell2 skip-in and cell3 takes both skips (aliasing)"),
    ('deconv_bn_in_skip3', [0, 1, 2, 1, 1, 2, 2, 1, 1, 0, 1, 2, 0, 3], False,
     'all deconv; cell2 pre+IN with skip-in (aliasing), cell3 post+BN takes both skips: deconv x4 and x2'),
    ('in_post_skip4x_deconv', [0, 2, 0, 0, 0, 2, 1, 1, 0, 0, 2, 2, 1, 2], False,
     'instance norm, post; cell3 deconv skip from cell1 only (skip_deconvx4)'),
    ('nonorm_bilinear_skip_from_c2', [0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1], False,
     'no norm, bilinear everywhere; cell2 skip-in + cell3 takes only cell2 skip (aliasing)'),
    ('pre_bn_mixed_up', [1, 1, 1, 0, 1, 1, 2, 0, 0, 1, 1, 0, 1, 3], False,
     'pre + BN; cell2 no skip-in, cell3 both skips with bilinear'),
    ('mixed_no_cell3_skip', [1, 2, 0, 1, 0, 1, 1, 1, 1, 1, 2, 1, 1, 0], False,
     'pre+IN / post+BN / pre+IN, cell3 skip 0'),
    ('deconv_skip2x_chain', [0, 1, 1, 0, 1, 0, 2, 1, 1, 1, 1, 2, 1, 1], False,
     'cell2 deconv skip x2 from cell1 (aliasing), cell3 deconv skip x2 from cell2'),
    ('nearest_skip4x', [1, 2, 2, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0, 2], False,
     'cell1 pre+IN+deconv; cell3 nearest skip from cell1 (8->32)'),
    ('bilinear_skip4x', [0, 1, 0, 1, 1, 1, 0, 1, 0, 0, 1, 0, 1, 2], False,
     'bilinear skip from cell1 into cell3 (8->32, align_corners=False)'),
    ('stage0_pre_bn_bilinear', [1, 1, 0, 1], False, 'stage 0 (one cell), output 8x8'),
    ('stage0_post_in_deconv', [0, 2, 2, 1], False, 'stage 0 (one cell), output 8x8'),
    ('stage1_post_bn_nearest', [0, 1, 1, 1, 1, 2, 0, 1, 1], False, 'stage 1, cell2 bilinear skip-in'),
    ('stage1_deconv_skip', [1, 0, 2, 0, 0, 1, 2, 1, 1], False, 'stage 1, cell2 deconv skip x2'),
]

# Model A expressed in the supernet encoding (see manifest notes / README).
MODEL_A_ARCH = [1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0, 3]

torch = None  # imported in main() after argument parsing
F = None  # torch.nn.functional


# ----------------------------------------------------------------------------- helpers

def setup_reference(ref_dir):
    """Imports torch and the reference modules; returns a dict of modules."""
    global torch, F
    import torch as _torch
    torch = _torch
    F = _torch.nn.functional
    torch.set_num_threads(1)
    ref_dir = os.path.abspath(ref_dir)
    if ref_dir not in sys.path:
        sys.path.insert(0, ref_dir)
    import models_search.shared_gan as shared_gan
    import models_search.building_blocks_search as bbs
    import models_search.controller as controller
    import models.autogan_cifar10_a as model_a
    import models.building_blocks as bb

    def init_hidden_cpu(self, batch_size):  # reference: torch.zeros(...).cuda()
        return torch.zeros(batch_size, self.hid_size, requires_grad=False)

    controller.Controller.initHidden = init_hidden_cpu
    return dict(shared_gan=shared_gan, bbs=bbs, controller=controller, model_a=model_a, bb=bb,
                ref_dir=ref_dir)


def make_args(**kw):
    ns = argparse.Namespace(gf_dim=GF_DIM, df_dim=DF_DIM, latent_dim=LATENT_DIM,
                            bottom_width=BOTTOM_WIDTH, d_spectral_norm=True, g_spectral_norm=False,
                            hid_size=HID_SIZE, init_type='xavier_uniform')
    for k, v in kw.items():
        setattr(ns, k, v)
    return ns


def seed_all(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)


def to_np(t):
    """float tensors keep float32/float64; integer tensors become float32."""
    t = t.detach().cpu()
    if t.dtype == torch.float64:
        return t.contiguous().numpy().astype('<f8')
    return t.to(torch.float32).contiguous().numpy().astype('<f4')


def f32(x):
    return np.asarray(x, dtype='<f4')


def reference_weights_init(m):
    """search.py's weights_init with the search script's --init_type xavier_uniform.

    Note: it matches classname.find('Conv2d'), which is -1 for 'ConvTranspose2d', so deconvs
    keep PyTorch's default init; BatchNorm gets N(1, 0.02) weight and 0 bias (we randomize BN
    fully afterwards)."""
    classname = m.__class__.__name__
    if classname.find('Conv2d') != -1:
        torch.nn.init.xavier_uniform_(m.weight.data, 1.)
    elif classname.find('BatchNorm2d') != -1:
        torch.nn.init.normal_(m.weight.data, 1.0, 0.02)
        torch.nn.init.constant_(m.bias.data, 0.0)


def randomize_bn(module):
    """Randomizes every BatchNorm2d: affine params and running stats (running_var > 0)."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 1.5)


def randomize_biases(module, scale=0.1):
    """Every conv/linear/deconv bias ~ U(-scale, scale) (PyTorch's default is also nonzero)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith('bias') and not _is_bn_param(module, name):
                p.uniform_(-scale, scale)


def _is_bn_param(module, name):
    owner = module.get_submodule(name.rsplit('.', 1)[0]) if '.' in name else module
    return isinstance(owner, torch.nn.BatchNorm2d)


def state_arrays(module, prefix):
    """State dict -> {prefix/key: array}; integer buffers (num_batches_tracked) are skipped."""
    out, skipped = {}, []
    for k, v in module.state_dict().items():
        if v.dtype.is_floating_point:
            out[f'{prefix}/{k}'] = to_np(v)
        else:
            skipped.append(k)
    return out, skipped


def write_npz(path, arrays):
    """Deterministic npz: fixed zip timestamps, deflate, numpy .npy format 1.0 entries."""
    with zipfile.ZipFile(path, 'w', compression=zipfile.ZIP_DEFLATED) as zf:
        for key, arr in arrays.items():
            arr = np.asarray(arr)
            assert arr.dtype.str in ('<f4', '<f8'), (key, arr.dtype)
            buf = io.BytesIO()
            if not arr.flags.c_contiguous:  # (np.ascontiguousarray would turn 0-d into shape (1,))
                arr = np.ascontiguousarray(arr)
            np.lib.format.write_array(buf, arr, allow_pickle=False)
            zi = zipfile.ZipInfo(key + '.npy', date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zf.writestr(zi, buf.getvalue())


def describe(arrays, groups):
    """Non-group arrays: key -> shape (dtype noted only when not <f4). Groups (prefixes holding a
    whole state dict / gradient set): prefix -> count and which state-dict key list they follow."""
    listed, grouped = {}, {}
    for k, v in arrays.items():
        v = np.asarray(v)
        g = next((pre for pre in groups if k.startswith(pre)), None)
        if g is not None:
            grouped.setdefault(g, {'count': 0, 'keys_as': groups[g]})
            grouped[g]['count'] += 1
        else:
            listed[k] = list(v.shape) if v.dtype.str == '<f4' else {'shape': list(v.shape), 'dtype': v.dtype.str}
    return listed, grouped


def stage_of(arch):
    return {4: 0, 9: 1, 14: 2}[len(arch)]


def decode_skip(skip_int, num_skip_in):
    """Same decoding as building_blocks_search.Cell.set_arch: LSB -> last skip_ins entry."""
    skip_ins = [0] * num_skip_in
    for idx, bit in enumerate(bin(skip_int).replace('0b', '')[::-1]):
        skip_ins[-(idx + 1)] = int(bit)
    return skip_ins


def arch_fields(arch):
    names = ['conv', 'norm', 'up', 'shortcut']
    cells = [dict(zip(names, arch[0:4]))]
    if len(arch) >= 9:
        cells.append(dict(zip(names + ['skip'], arch[4:9])))
    if len(arch) == 14:
        cells.append(dict(zip(names + ['skip'], arch[9:14])))
    return cells


def check_coverage():
    ranges = {'conv': 2, 'norm': 3, 'up': 3, 'shortcut': 2}
    seen = {}
    for _, arch, _, _ in GEN_CASES:
        for ci, cell in enumerate(arch_fields(arch)):
            for f, v in cell.items():
                seen.setdefault((ci, f), set()).add(v)
    for ci in range(3):
        for f, n in ranges.items():
            assert seen[(ci, f)] == set(range(n)), (ci, f, seen[(ci, f)])
    assert seen[(1, 'skip')] == {0, 1}
    assert seen[(2, 'skip')] == {0, 1, 2, 3}
    return {f'cell{ci + 1}.{f}': sorted(v) for (ci, f), v in sorted(seen.items())}


class CellRecorder:
    """Forward hooks on cells: records (skip_out, out) as returned (clones)."""

    def __init__(self, model, names):
        self.rec = {}
        self.handles = []
        for n in names:
            self.handles.append(getattr(model, n).register_forward_hook(self._hook(n)))

    def _hook(self, name):
        def fn(_mod, _inp, out):
            self.rec[name] = (out[0].detach().clone(), out[1].detach().clone())
        return fn

    def remove(self):
        for h in self.handles:
            h.remove()


# ----------------------------------------------------------------------------- generator cases

def run_generator(model, z, arch, stage, n_cells, intermediates):
    """Returns arrays: out_eval, out_train, after_train/* (BN running stats), eval/* intermediates."""
    arrays = {}
    m_eval = copy.deepcopy(model)
    m_train = copy.deepcopy(model)
    if arch is not None:
        m_eval.set_arch(arch, stage)
        m_train.set_arch(arch, stage)
    m_eval.eval()
    m_train.train()
    # intermediates of cell1/cell2 only (cell3's are 32x32 and would make the files large)
    cells = [f'cell{i + 1}' for i in range(min(n_cells, 2))]
    rec = CellRecorder(m_eval, cells) if intermediates else None
    with torch.no_grad():
        out_eval = m_eval(z)
        out_train = m_train(z)
    if rec is not None:
        rec.remove()
        for c in cells:
            arrays[f'eval/{c}/skip_out'] = to_np(rec.rec[c][0])
            arrays[f'eval/{c}/out'] = to_np(rec.rec[c][1])
    arrays['out_eval'] = to_np(out_eval)
    arrays['out_train'] = to_np(out_train)
    before = model.state_dict()
    for k, v in m_train.state_dict().items():
        if (k.endswith('running_mean') or k.endswith('running_var')) and not torch.equal(v, before[k]):
            arrays[f'after_train/{k}'] = to_np(v)
    return arrays, out_eval, out_train


def out_stats(t):
    t = t.detach()
    return {'mean': round(float(t.mean()), 6), 'std': round(float(t.std()), 6),
            'frac_abs_gt_0.99': round(float((t.abs() > 0.99).float().mean()), 6)}


def gen_search_case(ref, idx, name, arch, intermediates, desc):
    seed = 1000 + idx
    seed_all(seed)
    args = make_args()
    model = ref['shared_gan'].Generator(args)
    model.apply(reference_weights_init)
    randomize_bn(model)
    randomize_biases(model)
    state, skipped = state_arrays(model, 'gen')  # before any forward
    stage = stage_of(arch)
    z = torch.randn(BATCH, LATENT_DIM)
    arrays = dict(state)
    arrays['z'] = to_np(z)
    arrays['arch'] = f32(arch)
    fw, out_eval, out_train = run_generator(model, z, list(arch), stage, stage + 1, intermediates)
    arrays.update(fw)
    cells = arch_fields(arch)
    if len(cells) >= 2:
        cells[1]['skip_ins_decoded'] = decode_skip(arch[8], 1)
    if len(cells) == 3:
        cells[2]['skip_ins_decoded'] = decode_skip(arch[13], 2)
    meta = {
        'kind': 'generator_search', 'seed': seed, 'description': desc,
        'config': {'gf_dim': GF_DIM, 'latent_dim': LATENT_DIM, 'bottom_width': BOTTOM_WIDTH,
                   'batch': BATCH},
        'arch': list(arch), 'stage': stage, 'cells': cells,
        'output_shape_nchw': list(out_eval.shape),
        'skipped_state_keys': skipped,
        'out_eval_stats': out_stats(out_eval), 'out_train_stats': out_stats(out_train),
        'max_abs_out_eval_minus_out_train': float((out_eval - out_train).abs().max()),
    }
    return arrays, meta, model


def gen_model_a_case(ref):
    seed = 2000
    seed_all(seed)
    args = make_args()
    model = ref['model_a'].Generator(args)
    model.apply(reference_weights_init)
    randomize_bn(model)
    randomize_biases(model)
    state, skipped = state_arrays(model, 'gen')
    z = torch.randn(BATCH, LATENT_DIM)
    arrays = dict(state)
    arrays['z'] = to_np(z)
    fw, out_eval, out_train = run_generator(model, z, None, 2, 3, True)
    arrays.update(fw)

    # Cross-check: model A == supernet with MODEL_A_ARCH after mapping the weights.
    sup = ref['shared_gan'].Generator(args)
    sd_a = model.state_dict()
    sd_s = sup.state_dict()
    mapping = {}
    for k in sd_a:
        ks = k
        for c in ('cell1', 'cell2', 'cell3'):
            ks = ks.replace(f'{c}.c1.', f'{c}.pre_conv1.conv.').replace(f'{c}.c2.', f'{c}.pre_conv2.conv.')
        assert ks in sd_s, (k, ks)
        assert sd_s[ks].shape == sd_a[k].shape
        sd_s[ks] = sd_a[k].clone()
        mapping[k] = ks
    sup.load_state_dict(sd_s)
    _, sup_eval, sup_train = run_generator(sup, z, list(MODEL_A_ARCH), 2, 3, False)
    diff_eval = float((sup_eval - out_eval).abs().max())
    diff_train = float((sup_train - out_train).abs().max())
    assert diff_eval < 1e-5 and diff_train < 1e-5, (diff_eval, diff_train)
    meta = {
        'kind': 'generator_model_a', 'seed': seed,
        'description': 'models.autogan_cifar10_a.Generator (published model A, fixed layout)',
        'config': {'gf_dim': GF_DIM, 'latent_dim': LATENT_DIM, 'bottom_width': BOTTOM_WIDTH,
                   'batch': BATCH},
        'arch': MODEL_A_ARCH, 'stage': 2, 'cells': arch_fields(MODEL_A_ARCH),
        'arch_how_determined': (
            "Read from models/autogan_cifar10_a.py + models/building_blocks.Cell: every Cell is "
            "pre-activation (norm -> ReLU -> interpolate -> c1, [+skip-ins], norm -> ReLU -> c2) => conv=1 (pre); "
            "Generator passes no norm => norm=0 (none); cell1 'nearest' short_cut=True -> [1,0,1,1]; "
            "cell2 'bilinear' short_cut=True, num_skip_in=1 (always on) -> [1,0,0,1,1]; cell3 'nearest' "
            "short_cut=False, num_skip_in=2 (both on, skip_ins [1,1] = binary 11) -> [1,0,1,0,3]. "
            "Verified numerically: copying the weights into the supernet (cellK.c1 -> cellK.pre_conv1.conv, "
            "cellK.c2 -> cellK.pre_conv2.conv, other keys identical) and setting this arch reproduces "
            "out_eval/out_train."),
        'model_a_to_supernet_key_map': mapping,
        'supernet_equivalence_max_abs_diff': {'eval': diff_eval, 'train': diff_train},
        'output_shape_nchw': list(out_eval.shape),
        'skipped_state_keys': skipped,
        'out_eval_stats': out_stats(out_eval), 'out_train_stats': out_stats(out_train),
    }
    return arrays, meta


# ----------------------------------------------------------------------------- discriminator

def sn_modules(model):
    """(name, module) of every spectral-normed module, in module order."""
    return [(n, m) for n, m in model.named_modules() if hasattr(m, 'weight_u')]


def warm_power_iterations(model, iters=3):
    """A few power iterations (torch's formula) so the saved u/v give sigma > 0 and near the
    top singular value, as after some training; one more iteration still changes them."""
    with torch.no_grad():
        for _, m in sn_modules(model):
            w = m.weight_orig.reshape(m.weight_orig.shape[0], -1)
            u, v = m.weight_u.clone(), m.weight_v.clone()
            for _ in range(iters):
                v = F.normalize(torch.mv(w.t(), u), dim=0, eps=1e-12)
                u = F.normalize(torch.mv(w, v), dim=0, eps=1e-12)
            m.weight_u.copy_(u)
            m.weight_v.copy_(v)


def uv_arrays(model, tag):
    out = {}
    for n, m in sn_modules(model):
        out[f'u_{tag}/{n}'] = to_np(m.weight_u)
        out[f'v_{tag}/{n}'] = to_np(m.weight_v)
    return out


def sigma_of(m):
    with torch.no_grad():
        w = m.weight_orig.reshape(m.weight_orig.shape[0], -1)
        return float(torch.dot(m.weight_u, torch.mv(w, m.weight_v)))


def dis_case(ref, stage):
    """Seed 3000+stage+10*k for the first k = 0, 1, ... where the hinge D loss has an active real
    term (some out_train1 < 1), an active fake term (some out_train2 > -1) and at least one inactive
    element (so the ReLU kink is exercised)."""
    for k in range(100):
        arrays, meta = _dis_case(ref, stage, 3000 + stage + 10 * k)
        o1, o2 = np.array(meta['out_train1']), np.array(meta['out_train2'])
        if (o1 < 1).any() and (o2 > -1).any() and ((o1 > 1).any() or (o2 < -1).any()):
            meta['seed_rule'] = ('first seed 3000+stage+10k (k=0,1,...) whose hinge D loss has an active real '
                                 'term, an active fake term and an inactive element')
            return arrays, meta
    raise RuntimeError('no discriminator seed satisfied the hinge-activity rule')


def _dis_case(ref, stage, seed):
    seed_all(seed)
    args = make_args()
    model = ref['shared_gan'].Discriminator(args)
    model.apply(reference_weights_init)  # writes weight_orig (module.weight shares its storage)
    randomize_biases(model)
    warm_power_iterations(model)
    model.cur_stage = stage
    side = 8 * 2 ** stage
    x_real = torch.rand(BATCH, 3, side, side) * 2 - 1
    x_fake = torch.rand(BATCH, 3, side, side) * 2 - 1
    state, skipped = state_arrays(model, 'dis')
    arrays = dict(state)
    arrays['x_real'] = to_np(x_real)
    arrays['x_fake'] = to_np(x_fake)

    m_eval = copy.deepcopy(model)
    m_eval.cur_stage = stage
    m_eval.eval()
    with torch.no_grad():
        out_eval = m_eval(x_real)
    arrays['out_eval'] = to_np(out_eval)
    arrays['sigma_before'] = f32([sigma_of(m) for _, m in sn_modules(model)])

    m_train = copy.deepcopy(model)
    m_train.cur_stage = stage
    m_train.train()
    out1 = m_train(x_real)          # power iteration #1 (u/v updated in place)
    arrays['out_train1'] = to_np(out1)
    arrays.update(uv_arrays(m_train, 'after1'))
    out2 = m_train(x_fake)          # power iteration #2
    arrays['out_train2'] = to_np(out2)
    arrays.update(uv_arrays(m_train, 'after2'))
    # Extra: the reference's D step (functions.train_shared): hinge loss on (real, fake) validity.
    d_loss = torch.mean(torch.relu(1.0 - out1)) + torch.mean(torch.relu(1 + out2))
    d_loss.backward()
    arrays['dstep/d_loss'] = to_np(d_loss)
    for n, p in m_train.named_parameters():
        arrays[f'dstep/grad/{n}'] = to_np(p.grad if p.grad is not None else torch.zeros_like(p))
    used = ['block1', 'block2', 'block3'][:stage + 1] + ['block4', 'l5']
    meta = {
        'kind': 'discriminator_search', 'seed': seed, 'cur_stage': stage,
        'config': {'df_dim': DF_DIM, 'd_spectral_norm': True, 'batch': BATCH,
                   'input_shape_nchw': [BATCH, 3, side, side],
                   'spectral_norm': {'n_power_iterations': 1, 'eps': 1e-12, 'dim': 0}},
        'blocks_used': used,
        'sn_modules': [n for n, _ in sn_modules(model)],
        'uv_init': 'torch random u/v, then 3 power iterations (torch formula) before saving',
        'skipped_state_keys': skipped,
        'd_loss': float(d_loss.detach()),
        'out_eval': out_eval.flatten().tolist(), 'out_train1': out1.detach().flatten().tolist(),
        'out_train2': out2.detach().flatten().tolist(),
    }
    return arrays, meta


def model_a_dis_note(ref):
    args = make_args()
    seed_all(0)
    a = ref['model_a'].Discriminator(args)
    s = ref['shared_gan'].Discriminator(args)
    ka = [(k, tuple(v.shape)) for k, v in a.state_dict().items()]
    ks = [(k, tuple(v.shape)) for k, v in s.state_dict().items()]
    same = ka == ks
    return {
        'state_dict_keys_identical_to_search_discriminator': same,
        'note': ('models.autogan_cifar10_a.Discriminator has the same state-dict keys and shapes as '
                 'models_search.shared_gan.Discriminator, and its forward always runs block1..block3 '
                 '(= the search Discriminator with cur_stage 2); no separate case is written: use '
                 'dis_stage2.npz.') if same else 'keys differ',
    }


# ----------------------------------------------------------------------------- controller

class LogitRecorder:
    def __init__(self, ctrl):
        self.logits = []
        self._orig = ctrl.forward
        ctrl.forward = self._fwd
        self.ctrl = ctrl

    def _fwd(self, x, hidden, index):
        logit, h = self._orig(x, hidden, index)
        self.logits.append(logit.detach().clone())
        return logit, h

    def remove(self):
        del self.ctrl.forward


def predict_np_choice(n, size):
    st = np.random.get_state()
    idx = np.random.choice(n, size)
    np.random.set_state(st)
    return [int(i) for i in idx]


def controller_sample(ctrl, prefix, batch, prev_hiddens, prev_archs, with_hidden):
    arrays = {}
    rec = LogitRecorder(ctrl)
    selected = None
    if prev_hiddens:
        selected = predict_np_choice(len(prev_archs), batch)
    res = ctrl.sample(batch, with_hidden=with_hidden, prev_hiddens=prev_hiddens, prev_archs=prev_archs)
    rec.remove()
    archs, slp, ent = res[0], res[1], res[2]
    arrays[f'{prefix}/archs'] = to_np(archs)
    arrays[f'{prefix}/selected_log_probs'] = to_np(slp)
    arrays[f'{prefix}/entropies'] = to_np(ent)
    for i, lg in enumerate(rec.logits):
        arrays[f'{prefix}/logits/{i}'] = to_np(lg)
    if with_hidden:
        arrays[f'{prefix}/hx'] = to_np(res[3][0])
        arrays[f'{prefix}/cx'] = to_np(res[3][1])
    if selected is not None:
        arrays[f'{prefix}/selected_idx'] = f32(selected)
        for b, s in enumerate(selected):  # the archs prefix is the selected beam's arch
            assert torch.equal(archs[b, :prev_archs[s].numel()], prev_archs[s]), (b, s)
    return arrays, res, selected


def ctrl_case(ref, stage):
    seed = 4000 + stage
    seed_all(seed)
    args = make_args()
    C = ref['controller'].Controller
    ctrl = C(args, cur_stage=stage)
    ctrl.apply(reference_weights_init)  # no-op for the controller (no Conv2d / BatchNorm2d)
    state, skipped = state_arrays(ctrl, 'ctrl')
    arrays = dict(state)
    prev_hiddens = prev_archs = None
    if stage:
        # Two previous beams, as get_topk_arch_hidden returns: lists of [hid] tensors, archs of the
        # previous stage's length (stage 1 -> 4, stage 2 -> 9), int64 like multinomial's output.
        n_beams = 2
        prev_len = 4 if stage == 1 else 9
        hxs = [torch.rand(HID_SIZE) * 1.6 - 0.8 for _ in range(n_beams)]
        cxs = [torch.randn(HID_SIZE) for _ in range(n_beams)]
        highs = [2, 3, 3, 2, 2, 2, 3, 3, 2]
        prev_archs = []
        while len(prev_archs) < n_beams:
            a = torch.tensor([int(np.random.randint(h)) for h in highs[:prev_len]], dtype=torch.int64)
            if all(not torch.equal(a, b) for b in prev_archs):
                prev_archs.append(a)
        prev_hiddens = (hxs, cxs)
        arrays['prev/hx'] = to_np(torch.stack(hxs))
        arrays['prev/cx'] = to_np(torch.stack(cxs))
        arrays['prev/archs'] = to_np(torch.stack(prev_archs))

    ctrl.eval()  # as get_topk_arch_hidden (no effect: no dropout/BN in the controller)
    with torch.no_grad():
        a1, _, sel1 = controller_sample(ctrl, 'sample', 1, prev_hiddens, prev_archs, True)
        a3, _, sel3 = controller_sample(ctrl, 'sample_b3', 3, prev_hiddens, prev_archs, True)
    arrays.update(a1)
    arrays.update(a3)

    # REINFORCE, exactly as functions.train_controller (reproduced; functions.py not imported).
    ctrl.train()
    opt = torch.optim.Adam(filter(lambda p: p.requires_grad, ctrl.parameters()), CTRL_LR, (BETA1, BETA2))
    baseline = None
    steps = []
    for step, score in enumerate(FAKE_IS_SCORES, start=1):
        p = f'step{step}'
        sa, (archs, slp, ent), sel = controller_sample(ctrl, p, CTRL_SAMPLE_BATCH, prev_hiddens, prev_archs, False)
        arrays.update(sa)
        # get_is returns np.mean of np.float32 scores -> np.float32 -> torch.float32 tensor
        cur_batch_rewards = torch.tensor([np.float32(score) for _ in range(archs.shape[0])], requires_grad=False)
        arrays[f'{p}/is_score'] = to_np(cur_batch_rewards)
        cur_batch_rewards = cur_batch_rewards.unsqueeze(-1) + ENTROPY_COEFF * ent
        if baseline is None:
            baseline = cur_batch_rewards
        else:
            baseline = BASELINE_DECAY * baseline.detach() + (1 - BASELINE_DECAY) * cur_batch_rewards
        adv = cur_batch_rewards - baseline
        loss = -slp * adv
        arrays[f'{p}/loss_matrix'] = to_np(loss)
        loss = loss.sum()
        opt.zero_grad()
        loss.backward()
        for n, prm in ctrl.named_parameters():
            arrays[f'{p}/grad/{n}'] = to_np(prm.grad if prm.grad is not None else torch.zeros_like(prm))
        opt.step()
        arrays[f'{p}/rewards'] = to_np(cur_batch_rewards)
        arrays[f'{p}/baseline'] = to_np(baseline)
        arrays[f'{p}/adv'] = to_np(adv)
        arrays[f'{p}/loss'] = to_np(loss)
        st, _ = state_arrays(ctrl, f'{p}/state')
        arrays.update(st)
        steps.append({'step': step, 'is_score': score, 'selected_idx': sel, 'loss': float(loss.detach()),
                      'archs': archs.flatten().tolist(),
                      'rewards_shape': list(cur_batch_rewards.shape), 'adv_shape': list(adv.shape)})
    meta = {
        'kind': 'controller', 'seed': seed, 'cur_stage': stage,
        'config': {'hid_size': HID_SIZE, 'tokens': list(ctrl.tokens), 'ctrl_lr': CTRL_LR,
                   'betas': [BETA1, BETA2], 'adam_eps': 1e-8, 'entropy_coeff': ENTROPY_COEFF,
                   'baseline_decay': BASELINE_DECAY, 'ctrl_sample_batch': CTRL_SAMPLE_BATCH,
                   'fake_is_scores': FAKE_IS_SCORES},
        'prev_beams': 2 if stage else 0,
        'sample_selected_idx': sel1, 'sample_b3_selected_idx': sel3,
        'sample_archs': arrays['sample/archs'].flatten().tolist(),
        'steps': steps,
        'skipped_state_keys': skipped,
    }
    return arrays, meta


# ----------------------------------------------------------------------------- independent re-derivation
# (used by --verify; plain functional torch from the README's description)

def _load(D, f):
    z = np.load(os.path.join(D, f))
    for k in z.files:
        assert z[k].dtype.str in ('<f4', '<f8'), (f, k, z[k].dtype)
    return {k: torch.from_numpy(z[k].copy()) for k in z.files}


def close(a, b, tol, what):
    d = float((a - b).detach().abs().max())
    if d > tol:
        raise AssertionError(f'{what}: max abs diff {d}')
    return d


MODES = {0: 'bilinear', 1: 'nearest', 2: 'deconv'}


class FnGenerator:
    def __init__(self, P, pre, train):
        self.P, self.pre, self.train = P, pre, train
        self.bn_updates = {}

    def w(self, k):
        return self.P[self.pre + k]

    def bn(self, x, k):
        w, b, rm, rv = (self.w(k + s) for s in ('.weight', '.bias', '.running_mean', '.running_var'))
        if self.train:
            mean = x.mean((0, 2, 3))
            var_b = x.var((0, 2, 3), unbiased=False)
            n = x.numel() / x.shape[1]
            self.bn_updates[k + '.running_mean'] = 0.9 * rm + 0.1 * mean
            self.bn_updates[k + '.running_var'] = 0.9 * rv + 0.1 * var_b * n / (n - 1)
            return (x - mean[None, :, None, None]) / torch.sqrt(var_b[None, :, None, None] + 1e-5) * w[None, :, None, None] + b[None, :, None, None]
        return (x - rm[None, :, None, None]) / torch.sqrt(rv[None, :, None, None] + 1e-5) * w[None, :, None, None] + b[None, :, None, None]

    def norm(self, x, norm, k):
        if norm == 1:
            return self.bn(x, k)
        if norm == 2:  # InstanceNorm2d(affine=False, track_running_stats=False): always instance stats
            m = x.mean((2, 3), keepdim=True)
            v = x.var((2, 3), unbiased=False, keepdim=True)
            return (x - m) / torch.sqrt(v + 1e-5)
        return x

    def conv(self, x, k, pad=1):
        return F.conv2d(x, self.w(k + '.weight'), self.w(k + '.bias'), padding=pad)

    def deconv(self, x, k):
        return F.conv_transpose2d(x, self.w(k + '.weight'), self.w(k + '.bias'), stride=2)

    def up(self, x, mode, deconv_key):
        if mode == 2:
            return self.deconv(x, deconv_key)
        return F.interpolate(x, scale_factor=2, mode=MODES[mode])  # align_corners=False for bilinear

    def cell(self, c, x, a, skip_flags, skips):
        conv, norm, upm, sc = a[:4]
        if conv == 0:
            h = F.relu(self.norm(self.conv(self.up(x, upm, f'{c}.post_conv1.deconv'), f'{c}.post_conv1.conv'), norm, f'{c}.post_conv1.bn'))
        else:
            h = self.conv(self.up(F.relu(self.norm(x, norm, f'{c}.pre_conv1.bn')), upm, f'{c}.pre_conv1.deconv'), f'{c}.pre_conv1.conv')
        ht, wt = h.shape[2:]
        for i, (flag, ft) in enumerate(zip(skip_flags, skips)):
            if flag:
                if upm != 2:
                    t = F.interpolate(ft, size=(ht, wt), mode=MODES[upm])
                else:
                    scale = wt // ft.shape[-1]
                    if scale == 2:
                        t = self.deconv(ft, f'{c}.skip_deconvx2')
                    else:
                        t = self.deconv(self.deconv(ft, f'{c}.skip_deconvx4.0'), f'{c}.skip_deconvx4.1')
                h = h + self.conv(t, f'{c}.skip_in_ops.{i}', pad=0)
        skip_out = h  # after the skip-in adds (in-place aliasing in the reference)
        if conv == 0:
            out = F.relu(self.norm(self.conv(h, f'{c}.post_conv2.conv'), norm, f'{c}.post_conv2.bn'))
        else:
            out = self.conv(F.relu(self.norm(h, norm, f'{c}.pre_conv2.bn')), f'{c}.pre_conv2.conv')
        if sc:
            if upm != 2:
                out = out + self.conv(F.interpolate(x, scale_factor=2, mode=MODES[upm]), f'{c}.c_sc', pad=0)
            else:
                out = out + self.conv(self.deconv(x, f'{c}.deconv_sc'), f'{c}.c_sc', pad=0)
        return skip_out, out

    def forward(self, z, arch):
        stage = {4: 0, 9: 1, 14: 2}[len(arch)]
        h = F.linear(z, self.w('l1.weight'), self.w('l1.bias')).view(-1, GF_DIM, BOTTOM_WIDTH, BOTTOM_WIDTH)
        inter = {}
        s1, h = self.cell('cell1', h, arch[0:4], [], [])
        inter['cell1'] = (s1, h)
        if stage >= 1:
            flags = [arch[8] & 1]
            s2, h = self.cell('cell2', h, arch[4:9], flags, [s1])
            inter['cell2'] = (s2, h)
        if stage == 2:
            flags = [(arch[13] >> 1) & 1, arch[13] & 1]  # [from cell1, from cell2]
            _, h = self.cell('cell3', h, arch[9:14], flags, [s1, s2])
        h = self.conv(F.relu(self.bn(h, 'to_rgb.0')), 'to_rgb.2')
        return torch.tanh(h), inter


class FnModelA(FnGenerator):  # model A fixed layout
    def cell_a(self, c, x, mode, sc, skips):
        h = F.interpolate(F.relu(x), scale_factor=2, mode=mode)
        ht, wt = h.shape[2:]
        h = self.conv(h, f'{c}.c1')
        for i, ft in enumerate(skips):
            h = h + self.conv(F.interpolate(ft, size=(ht, wt), mode=mode), f'{c}.skip_in_ops.{i}', pad=0)
        skip_out = h
        out = self.conv(F.relu(h), f'{c}.c2')
        if sc:
            out = out + self.conv(F.interpolate(x, scale_factor=2, mode=mode), f'{c}.c_sc', pad=0)
        return skip_out, out

    def forward_a(self, z):
        h = F.linear(z, self.w('l1.weight'), self.w('l1.bias')).view(-1, GF_DIM, BOTTOM_WIDTH, BOTTOM_WIDTH)
        s1, h1 = self.cell_a('cell1', h, 'nearest', True, [])
        s2, h2 = self.cell_a('cell2', h1, 'bilinear', True, [s1])
        _, h3 = self.cell_a('cell3', h2, 'nearest', False, [s1, s2])
        out = torch.tanh(self.conv(F.relu(self.bn(h3, 'to_rgb.0')), 'to_rgb.2'))
        return out, {'cell1': (s1, h1), 'cell2': (s2, h2)}


def check_gen(D, c):
    A = _load(D, c['file'])
    arch = [int(x) for x in A['arch'].tolist()] if 'arch' in A else None
    res = {}
    for mode, key in ((False, 'out_eval'), (True, 'out_train')):
        if c['kind'] == 'generator_search':
            g = FnGenerator(A, 'gen/', mode)
            out, inter = g.forward(A['z'], arch)
        else:
            g = FnModelA(A, 'gen/', mode)
            out, inter = g.forward_a(A['z'])
        res[key] = close(out, A[key], 2e-5, f"{c['name']} {key}")
        if not mode:
            for cl, (s, o) in inter.items():
                if f'eval/{cl}/out' in A:
                    close(s, A[f'eval/{cl}/skip_out'], 2e-5, f'{c["name"]} {cl} skip_out')
                    close(o, A[f'eval/{cl}/out'], 2e-5, f'{c["name"]} {cl} out')
        else:
            keys = sorted(k for k in A if k.startswith('after_train/'))
            assert sorted('after_train/' + k for k in g.bn_updates) == keys, (keys, sorted(g.bn_updates))
            for k, v in g.bn_updates.items():
                close(v, A['after_train/' + k], 2e-5, f'{c["name"]} {k}')
    return res


def sn(A, P, name, train):
    W = A[P + name + '.weight_orig']
    Wm = W.reshape(W.shape[0], -1)
    u, v = A['_u'][name], A['_v'][name]
    if train:  # power iteration without grad: u, v are constants for backprop
        with torch.no_grad():
            v = F.normalize(Wm.t() @ u, dim=0, eps=1e-12)
            u = F.normalize(Wm @ v, dim=0, eps=1e-12)
        A['_u'][name], A['_v'][name] = u, v
    sigma = torch.dot(u, Wm @ v)
    return W / sigma


def dforward(A, x, stage, train, used):
    P = 'dis/'

    def conv(h, name, pad):
        used.add(name)
        return F.conv2d(h, sn(A, P, name, train), A[P + name + '.bias'], padding=pad)

    def down(h):
        return F.avg_pool2d(h, 2)

    h = down(conv(F.relu(conv(x, 'block1.c1', 1)), 'block1.c2', 1)) + conv(down(x), 'block1.c_sc', 0)
    for b in ['block2', 'block3'][:stage]:
        r = conv(F.relu(conv(F.relu(h), f'{b}.c1', 1)), f'{b}.c2', 1)
        if b == 'block2':
            h = down(r) + down(conv(h, f'{b}.c_sc', 0))
        else:
            h = r + h
    h = conv(F.relu(conv(F.relu(h), 'block4.c1', 1)), 'block4.c2', 1) + h
    h = F.relu(h).sum(2).sum(2)
    used.add('l5')
    return F.linear(h, sn(A, P, 'l5', train))


def check_dis(D, c):
    A = _load(D, c['file'])
    stage = c['cur_stage']
    names = c['sn_modules']

    def reset():
        A['_u'] = {n: A[f'dis/{n}.weight_u'] for n in names}
        A['_v'] = {n: A[f'dis/{n}.weight_v'] for n in names}

    reset()
    close(dforward(A, A['x_real'], stage, False, set()), A['out_eval'], 2e-5, 'dis eval')
    params = {k: A[k].clone().requires_grad_(True) for k in A if k.startswith('dis/') and (k.endswith('.bias') or k.endswith('weight_orig'))}
    B = dict(A)
    B.update(params)
    B['_u'] = dict(A['_u']); B['_v'] = dict(A['_v'])
    used = set()
    o1 = dforward(B, A['x_real'], stage, True, used)
    close(o1, A['out_train1'], 2e-5, 'train1')
    for n in names:
        close(B['_u'][n], A[f'u_after1/{n}'], 1e-6, f'u1 {n}')
        close(B['_v'][n], A[f'v_after1/{n}'], 1e-6, f'v1 {n}')
    o2 = dforward(B, A['x_fake'], stage, True, set())
    close(o2, A['out_train2'], 2e-5, 'train2')
    for n in names:
        close(B['_u'][n], A[f'u_after2/{n}'], 1e-6, f'u2 {n}')
        close(B['_v'][n], A[f'v_after2/{n}'], 1e-6, f'v2 {n}')
        if n not in used:  # unused modules keep their u/v
            assert torch.equal(A[f'u_after2/{n}'], A[f'dis/{n}.weight_u'])
    loss = torch.relu(1 - o1).mean() + torch.relu(1 + o2).mean()
    close(loss, A['dstep/d_loss'], 1e-5, 'd_loss')
    loss.backward()
    for k, p in params.items():
        close(p.grad if p.grad is not None else torch.zeros_like(p), A['dstep/grad/' + k[4:]], 1e-4, 'grad ' + k)
    return sorted(used)


def lstm(P, x, h, c):
    g = x @ P['lstm.weight_ih'].t() + P['lstm.bias_ih'] + h @ P['lstm.weight_hh'].t() + P['lstm.bias_hh']
    i, f, gg, o = g.chunk(4, 1)
    c2 = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(gg)
    return torch.sigmoid(o) * torch.tanh(c2), c2


def ctrl_run(P, tokens, A, pre, prev_len):
    archs = A[f'{pre}/archs'].long()
    bs = archs.shape[0]
    if prev_len:
        sel = A[f'{pre}/selected_idx'].long()
        h, c = A['prev/hx'][sel], A['prev/cx'][sel]
        assert torch.equal(archs[:, :prev_len], A['prev/archs'].long()[sel])
    else:
        h, c = torch.zeros(bs, HID_SIZE), torch.zeros(bs, HID_SIZE)
    x = torch.zeros(bs, HID_SIZE)
    slps, ents, logits = [], [], []
    for i, T in enumerate(tokens):
        h, c = lstm(P, x, h, c)
        lg = h @ P[f'decoders.{i}.weight'].t() + P[f'decoders.{i}.bias']
        logits.append(lg)
        lp = F.log_softmax(lg, -1)
        ents.append(-(lp * lp.exp()).sum(1, keepdim=True))
        a = archs[:, prev_len + i]
        slps.append(lp.gather(1, a[:, None]))
        x = P['encoder.weight'][a + sum(tokens[:i])]  # offset = sum of tokens BEFORE this decoder
    return torch.cat(slps, -1), torch.cat(ents, 0), logits, (h, c)


def check_ctrl(D, c):
    A = _load(D, c['file'])
    tokens = c['config']['tokens']
    stage = c['cur_stage']
    prev_len = {0: 0, 1: 4, 2: 9}[stage]
    P0 = {k[5:]: v for k, v in A.items() if k.startswith('ctrl/')}
    for pre in ('sample', 'sample_b3'):
        slp, ent, logits, (h, cc) = ctrl_run(P0, tokens, A, pre, prev_len)
        close(slp, A[f'{pre}/selected_log_probs'], 1e-5, pre)
        close(ent, A[f'{pre}/entropies'], 1e-5, pre)
        close(h, A[f'{pre}/hx'], 1e-5, pre)
        close(cc, A[f'{pre}/cx'], 1e-5, pre)
        for i, lg in enumerate(logits):
            close(lg, A[f'{pre}/logits/{i}'], 1e-5, pre)
    P = {k: v.clone() for k, v in P0.items()}
    m = {k: torch.zeros_like(v) for k, v in P.items()}
    vv = {k: torch.zeros_like(v) for k, v in P.items()}
    baseline = None
    for step in range(1, len(FAKE_IS_SCORES) + 1):
        pre = f'step{step}'
        Pg = {k: v.clone().requires_grad_(True) for k, v in P.items()}
        slp, ent, _, _ = ctrl_run(Pg, tokens, A, pre, prev_len)
        close(slp, A[f'{pre}/selected_log_probs'], 1e-5, pre)
        r = A[f'{pre}/is_score'].unsqueeze(-1) + ENTROPY_COEFF * ent  # [1,1] + [n,1] -> [n,1]
        baseline = r if baseline is None else BASELINE_DECAY * baseline.detach() + (1 - BASELINE_DECAY) * r
        adv = r - baseline
        loss = (-slp * adv).sum()  # [1,n] * [n,1] -> [n,n]
        close(r, A[f'{pre}/rewards'], 1e-5, 'rewards')
        close(baseline, A[f'{pre}/baseline'], 1e-5, 'baseline')
        close(adv, A[f'{pre}/adv'], 1e-5, 'adv')
        close(loss, A[f'{pre}/loss'], 1e-4, 'loss')
        loss.backward()
        for k, p in Pg.items():
            close(p.grad, A[f'{pre}/grad/{k}'], 1e-4, f'{pre} grad {k}')
            g = p.grad
            m[k] = g.clone()  # BETA1 = 0: exp_avg is the gradient, bias correction 1
            vv[k] = BETA2 * vv[k] + (1 - BETA2) * g * g
            denom = vv[k].sqrt() / (1 - BETA2 ** step) ** 0.5 + 1e-8
            P[k] = P[k] - CTRL_LR * m[k] / denom
            close(P[k], A[f'{pre}/state/{k}'], 2e-6, f'{pre} state {k}')
        if step == 1:
            assert all(float(A[f'step1/grad/{k}'].abs().max()) == 0 for k in P)

def independent_check(D):
    """Re-derives every fixture from the npz contents alone with plain torch.nn.functional code
    written from the README's description (no reference module is used). Checks the docs."""
    man = json.load(open(os.path.join(D, 'manifest.json')))
    for c in man['cases']:
        if c['kind'].startswith('generator'):
            check_gen(D, c)
        elif c['kind'].startswith('discriminator'):
            check_dis(D, c)
        else:
            check_ctrl(D, c)
    print(f'independent re-derivation: {len(man["cases"])} cases OK')
    return True


# ----------------------------------------------------------------------------- driver

def file_sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def generate(ref, out_dir, reference_commit):
    os.makedirs(out_dir, exist_ok=True)
    coverage = check_coverage()
    cases = []

    def emit(fname, arrays, meta, groups):
        write_npz(os.path.join(out_dir, fname), arrays)
        out = {'name': fname[:-4], 'file': fname}
        out.update(meta)
        out['arrays'], out['array_groups'] = describe(arrays, groups)
        cases.append(out)

    for i, (name, arch, inter, desc) in enumerate(GEN_CASES):
        arrays, meta, _ = gen_search_case(ref, i, name, arch, inter, desc)
        meta['supernet_weights'] = 'one fresh random supernet per case (seed 1000+index)'
        emit(f'gen_search_{name}.npz', arrays, meta, {'gen/': 'generator_search'})
    arrays, meta = gen_model_a_case(ref)
    emit('gen_model_a.npz', arrays, meta, {'gen/': 'generator_model_a'})
    for s in range(3):
        arrays, meta = dis_case(ref, s)
        emit(f'dis_stage{s}.npz', arrays, meta,
             {'dis/': 'discriminator_search', 'dstep/grad/': 'discriminator_search.parameters'})
    for s in range(3):
        arrays, meta = ctrl_case(ref, s)
        groups = {'ctrl/': f'controller_stage{s}'}
        for k in range(1, len(FAKE_IS_SCORES) + 1):
            groups[f'step{k}/state/'] = f'controller_stage{s}'
            groups[f'step{k}/grad/'] = f'controller_stage{s}'
        emit(f'ctrl_stage{s}.npz', arrays, meta, groups)

    def keys_of(module, params_only=False):
        items = module.named_parameters() if params_only else module.state_dict().items()
        return [[k, list(v.shape)] for k, v in items if v.dtype.is_floating_point]

    args = make_args()
    state_dict_keys = {
        'generator_search': keys_of(ref['shared_gan'].Generator(args)),
        'generator_model_a': keys_of(ref['model_a'].Generator(args)),
        'discriminator_search': keys_of(ref['shared_gan'].Discriminator(args)),
        'discriminator_search.parameters': keys_of(ref['shared_gan'].Discriminator(args), True),
    }
    for s in range(3):
        state_dict_keys[f'controller_stage{s}'] = keys_of(ref['controller'].Controller(args, cur_stage=s))

    manifest = {
        'generator': 'tools/reference-fixtures/make_autogan_fixtures.py',
        'reference_repo': 'TAMU-VITA/AutoGAN',
        'reference_commit': reference_commit,
        'reference_file_sha256': {f: file_sha256(os.path.join(ref['ref_dir'], f))
                                  for f in REFERENCE_FILES if os.path.exists(os.path.join(ref['ref_dir'], f))},
        'torch_version': torch.__version__,
        'numpy_version': np.__version__,
        'python_version': platform.python_version(),
        'device': 'cpu, torch.set_num_threads(1)',
        'layout': 'all images NCHW as torch returns them; integers stored as float32',
        'dtypes': 'every array <f4 (float32) unless listed otherwise in arrays[].dtype',
        'arch_encoding': {
            'per_cell': '[conv(0 post,1 pre), norm(0 none,1 bn,2 in), up(0 bilinear,1 nearest,2 deconv), '
                        'shortcut(0/1)] + skip int for cells 2 and 3',
            'skip_bits': 'Cell.set_arch: skip_ins[-(i+1)] = bit i of the skip int (LSB -> last entry). '
                         'cell2: skip_ins=[from cell1]; cell3: skip_ins=[from cell1, from cell2], so '
                         '1 -> from cell2 only, 2 -> from cell1 only, 3 -> both',
            'stage': 'len 4 -> stage 0, 9 -> stage 1, 14 -> stage 2',
        },
        'arch_field_coverage': coverage,
        'model_a_discriminator': model_a_dis_note(ref),
        'cases': cases,
        'state_dict_keys': state_dict_keys,
    }
    with open(os.path.join(out_dir, 'manifest.json'), 'w') as f:
        f.write(compact_json(manifest))
        f.write('\n')
    return manifest


def compact_json(obj, indent=0, prefix_len=0):
    """JSON laid out the way prettier formats it (printWidth 110, 2-space indent), so that the
    repository's `prettier --check` accepts manifest.json unchanged: objects always expanded,
    a list on one line when it fits, else one element per line."""
    pad = '  ' * indent
    if isinstance(obj, dict):
        if not obj:
            return '{}'
        items = []
        for k, v in obj.items():
            head = f'{pad}  {json.dumps(k)}: '
            items.append(head + compact_json(v, indent + 1, len(head)))
        return '{\n' + ',\n'.join(items) + '\n' + pad + '}'
    if isinstance(obj, list):
        one = _one_line(obj)
        if not any(isinstance(v, dict) for v in obj) and prefix_len + len(one) + 1 <= 110:
            return one
        items = [f'{pad}  ' + compact_json(v, indent + 1, len(pad) + 2) for v in obj]
        return '[\n' + ',\n'.join(items) + '\n' + pad + ']'
    return _scalar(obj)


def _scalar(v):
    if isinstance(v, float):  # prettier writes 1e-8, not Python's 1e-08
        return re.sub(r'^([+-]?[\d.]+e)(?:\+|(-))?0*(\d)', r'\1\2\3', json.dumps(v))
    return json.dumps(v)


def _one_line(obj):
    if isinstance(obj, list):
        return '[' + ', '.join(_one_line(v) for v in obj) + ']'
    if isinstance(obj, dict):
        return '{' + ', '.join(f'{json.dumps(k)}: {_one_line(v)}' for k, v in obj.items()) + '}'
    return _scalar(obj)


def fixture_files(d):
    return sorted(f for f in os.listdir(d) if f.endswith('.npz') or f == 'manifest.json')


def verify(ref, out_dir, reference_commit):
    """Regenerates everything twice; checks both runs and out_dir are byte-identical."""
    ok = True
    with tempfile.TemporaryDirectory() as t1, tempfile.TemporaryDirectory() as t2:
        generate(ref, t1, reference_commit)
        generate(ref, t2, reference_commit)
        f1, f2 = fixture_files(t1), fixture_files(t2)
        if f1 != f2:
            print(f'file lists differ between runs: {f1} vs {f2}')
            ok = False
        for f in f1:
            if file_sha256(os.path.join(t1, f)) != file_sha256(os.path.join(t2, f)):
                print(f'run1 != run2: {f}')
                ok = False
        if os.path.isdir(out_dir):
            fo = fixture_files(out_dir)
            if fo != f1:
                print(f'{out_dir} files {fo} != generated {f1}')
                ok = False
            for f in f1:
                p = os.path.join(out_dir, f)
                if os.path.exists(p) and file_sha256(p) != file_sha256(os.path.join(t1, f)):
                    print(f'{out_dir}/{f} differs from a fresh run')
                    ok = False
        print(f'verify: {len(f1)} files, ' + ('all identical' if ok else 'MISMATCH'))
        independent_check(t1)
    return ok


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, '..', '..', 'test', 'fixtures', 'reference'))
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--reference', required=True, help='work tree of TAMU-VITA/AutoGAN')
    ap.add_argument('--out', default=default_out)
    ap.add_argument('--reference-commit', default=REFERENCE_COMMIT)
    ap.add_argument('--verify', action='store_true', help='regenerate twice and compare (no writes to --out)')
    a = ap.parse_args()
    ref = setup_reference(a.reference)
    if a.verify:
        return 0 if verify(ref, a.out, a.reference_commit) else 1
    m = generate(ref, a.out, a.reference_commit)
    total = sum(os.path.getsize(os.path.join(a.out, f)) for f in fixture_files(a.out))
    print(f'wrote {len(m["cases"])} cases to {a.out} ({total} bytes)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
