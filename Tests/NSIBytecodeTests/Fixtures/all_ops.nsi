# all_ops.nsi — every opcode the checker emits, so round trips and the verifier see each
# one as the checker writes it (SmolLM2: hidden 576, 9 heads of 64, vocabulary 49152).
param prompt: str = "The Eiffel Tower is located in the city of"
param alpha: float = -0.5
param layer: int = 3
param greedy: bool = false
param steer: tensor[model.hidden_size] = load("steer.safetensors", "steer")
param other: str
trace prompt {
    let h = model.layers[layer].output[0]
    let a = h.abs().exp().log().sqrt().relu().sigmoid().tanh()
    let r = h.sum(0) + h.mean(dim = 0) + h.max(0) + h.min(0, keepdim = false) + h.norm(0)
    let i = h.argmax(-1) + h.argmin(-1)
    let total = h.sum()
    save probs = h.softmax(-1)
    save logp = h.log_softmax(0)
    let top = h[-1].topk(3)
    save top_values = top.values
    save top_indices = top.indices
    let m = h.reshape(-1, 64).transpose(0, 1).unsqueeze(0).squeeze(0).squeeze().clone()
    let v = h.view(2, -1)
    let f = i.float()
    let c = cat([h, h], 0)
    let st = stack([h, h], 1)
    let w = where(h > 0, h, zeros_like(h))
    let k = cosine(h, h)
    let z = zeros(2, 3) + ones(3) + ones_like(h[0, 0:3]) + randn(2, 3, seed = 1) + rand(3)
    let ri = randint(-2, 50, [2, 3], seed = -4)
    save drawn = z
    save ints = ri
    save wt = model.norm.weight[0:3] + model.model.layers[1].self_attn.o_proj.weight[0, 0:3]
    let g = h[[0, 1]]
    let sl = h[1:, ::2][0, 1:3]
    let mm = h @ h.transpose(0, 1)
    let p = (h ** 2 % 3 / 4 - 1) * alpha
    let cmp = (h >= 0) and (h < 1)
    let o = (h != 0) or (h == 1) or not (h <= 2)
    let y = model.layers[3].mlp(h) + model.embed(toks(" Paris"))
    let lens = model.lm_head(model.norm(h[-1]))
    save probe = lens[tok(" Paris")]
    let ids = toks(other)
    model.layers[5].output[:, -1] += alpha * steer
    model.layers[5].output[:, :, 0:4] -= 1
    model.layers[6].output *= 2
    model.layers[6].output /= 2
    if total > 0 {
        save positive = total
        if total > 1 {
            model.layers[7].output[:, -1] = 0
        }
    } else {
        save negative = total
    }
    if greedy { save greedy_taken = 1 }
    save text = prompt
    save same = prompt == other
}
trace {
    invoke prompt { let clean = model.layers[2].output }
    invoke "The Colosseum is located in the city of" {
        skip model.layers[1].mlp
        model.layers[2].output = clean
        save patched = model.logits[0, -1].softmax(-1)[tok(" Rome")]
    }
}
generate "I think that you are" (max_tokens = 4, temperature = 0.8, top_k = 50, top_p = 0.9, seed = 7) {
    step 0 { save first = model.logits[0, -1] }
    step 1..<3 { model.layers[2].output *= 0.5 }
    step 2 { skip model.layers[3] }
    each step { model.layers[10].output += -0.5 * steer }
    save ids = result.ids
    save text_out = result.text
}
trace "The Eiffel Tower is located in the city of" {
    model.layers[1].attn.pattern = model.layers[1].attn.pattern.detach()
    backward model.logits[0, -1].log_softmax(-1)[tok(" Paris")]
    model.layers[6].output.grad *= 0.5
    save input_saliency = model.embed.output.grad[0].norm(-1)
}
let prompt_ids = [504, 414, 46682]
prompt_ids[1] = 414
trace prompt_ids { save from_ids = model.logits[0, -1, 0] }
trace ["The capital of France is", "Hello"] {
    let pad = model.attention_mask.float().unsqueeze(-1)
    save masked_mean = (model.layers[3].output * pad).sum(1) / pad.sum(1)
    save selected = model.layers[3].output[0][model.layers[3].output[0].norm(-1) > 1.0].mean(0)
    save heads = einsum("bhqk,bkd->bhqd", model.layers[2].attn.pattern, model.layers[2].output[:, :, 0:64])
    save gathered = model.logits.log_softmax(-1).gather(-1, [[[tok(" Paris")], [tok(" Rome")], [1], [2], [3]]])
}
