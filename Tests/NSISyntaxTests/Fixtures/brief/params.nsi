param prompt: str = "The Eiffel Tower is located in the city of"
param layer: int = 8
param alpha: float = -0.5
param steer: tensor[model.hidden_size] = load("steer.safetensors", "steer")
