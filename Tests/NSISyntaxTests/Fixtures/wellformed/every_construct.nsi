# Every construct of the language once, for the parser and formatter tests.
param prompt: str = "The Eiffel Tower is located in the city of"
param layer: int = 8
param alpha: float = -0.5
param greedy: bool = true
param steer: tensor[model.hidden_size] = load("steer.safetensors", "steer")
param mask: i32[B, T]
param scale: f32[] = zeros()

trace prompt {
    let h = model.layers[layer].output
    save hidden = model.layers[8].output[:, -1]
    model.layers[3].mlp.output[:, -1] = 0
    model.layers[10].output += alpha * steer
    model.layers[10].output -= 1
    model.layers[10].output *= 2
    model.layers[10].output /= 2
    model.layers[5].attn.z[:, :, 3] = 0
    skip model.layers[4]
    skip model.model.layers[4].mlp
    for l in 0..<model.num_layers {
        let c[l] = model.layers[l].output[0, -1]
        save lens[l, 0] = model.lm_head(model.norm(c[l])).softmax(-1)
    }
    for l in [3, 8, 12] {
        ...
    }
    if layer > 4 and not greedy {
        save big = 1
    } else if layer == 4 or layer != 5 {
        save mid = 2
    } else {
        save small = 3
    }
    let s = h[..., 1:3, ::2]
    let t = h[1:, :3, 1:2:3, -1]
    let u = (h @ h.transpose(0, 1)) ** 2 % 3 / 4
    let v = -h ** 2
    let w = h.sum(dim = 1, keepdim = true).max(-1).values
    let x = cat([h, h], 1)
    let y = model.layers[3].mlp(h) + model.embed(toks(" Paris"))
    let z = where(h > 0, h, zeros_like(h))
    let e = "escapes: \" \\ \n \t \u{e9}"
    let f = [1.0, 2.5e-3, 1e3, .5, 2., 1_000]
    let g = (1 + 2) * 3 <= 4 - -5
}

trace {
    invoke "clean prompt" {
        let clean = model.layers[layer].output
    }
    for l in 0..<2 {
        invoke "corrupt prompt" {
            model.layers[l].output = clean
        }
    }
}

generate prompt (max_tokens = 40, temperature = 0.8, top_k = 50, seed = 7) {
    model.layers[0].output += 0
    step 0 {
        save first = model.logits[0, -1]
    }
    step 1..<4 {
        model.layers[2].output *= 0.5
    }
    each step {
        model.layers[10].output += -0.5 * steer
    }
    save ids = result.ids
    save text = result.text
}
generate (prompts[0]) {}
