-- Seed rows for `categories`: GB/T 30428 component (部件, C..) and event (事件, E..) classes and
-- the 12345 service categories (S..). Portable SQL (SQLite and PostgreSQL).
--
-- The major classes follow GB/T 30428 (components 01-06; events 01-05, plus 06 as a local
-- extension). The MINOR-class numbering and the handling deadlines below are this project's
-- default codebook, not a normative list: a city may load its own codebook instead.
-- deadline_hours = working hours allowed for urban-management handling of a case in that
-- subclass; NULL = use the request-type rule. Parents are inserted before their children.

-- Component major classes (部件大类).
INSERT INTO categories (id, kind, major_code, minor_code, name_zh, name_en, parent_id, deadline_hours) VALUES
('C01', 'component', '01', NULL, '公用设施', 'Public facilities', NULL, NULL),
('C02', 'component', '02', NULL, '道路交通', 'Road traffic', NULL, NULL),
('C03', 'component', '03', NULL, '市容环境', 'City appearance and environment', NULL, NULL),
('C04', 'component', '04', NULL, '园林绿化', 'Landscaping and greening', NULL, NULL),
('C05', 'component', '05', NULL, '房屋土地', 'Housing and land', NULL, NULL),
('C06', 'component', '06', NULL, '其他设施', 'Other facilities', NULL, NULL);

-- Event major classes (事件大类); E06 is a local extension.
INSERT INTO categories (id, kind, major_code, minor_code, name_zh, name_en, parent_id, deadline_hours) VALUES
('E01', 'event', '01', NULL, '市容环境', 'City appearance and environment', NULL, NULL),
('E02', 'event', '02', NULL, '宣传广告', 'Publicity and advertising', NULL, NULL),
('E03', 'event', '03', NULL, '施工管理', 'Construction management', NULL, NULL),
('E04', 'event', '04', NULL, '突发事件', 'Emergencies', NULL, NULL),
('E05', 'event', '05', NULL, '街面秩序', 'Street order', NULL, NULL),
('E06', 'event', '06', NULL, '其他事件', 'Other events', NULL, NULL);

-- 12345 service categories (no minor classes; deadlines follow the request type).
INSERT INTO categories (id, kind, major_code, minor_code, name_zh, name_en, parent_id, deadline_hours) VALUES
('S01', 'service', '01', NULL, '城乡建设', 'Urban and rural development', NULL, NULL),
('S02', 'service', '02', NULL, '交通出行', 'Transport and travel', NULL, NULL),
('S03', 'service', '03', NULL, '市场监管', 'Market regulation', NULL, NULL),
('S04', 'service', '04', NULL, '劳动保障', 'Labour rights and employment', NULL, NULL),
('S05', 'service', '05', NULL, '教育', 'Education', NULL, NULL),
('S06', 'service', '06', NULL, '医疗卫生', 'Health care', NULL, NULL),
('S07', 'service', '07', NULL, '社会保障', 'Social security', NULL, NULL),
('S08', 'service', '08', NULL, '生态环境', 'Ecology and environment', NULL, NULL),
('S09', 'service', '09', NULL, '公共安全', 'Public safety', NULL, NULL),
('S10', 'service', '10', NULL, '住房与物业', 'Housing and property management', NULL, NULL),
('S11', 'service', '11', NULL, '政务服务', 'Government services', NULL, NULL),
('S12', 'service', '12', NULL, '其他', 'Other', NULL, NULL);

-- C01 公用设施 public facilities.
INSERT INTO categories (id, kind, major_code, minor_code, name_zh, name_en, parent_id, deadline_hours) VALUES
('C0101', 'component', '01', '01', '上水井盖', 'Water-supply manhole cover', 'C01', 16),
('C0102', 'component', '01', '02', '污水井盖', 'Sewer manhole cover', 'C01', 16),
('C0103', 'component', '01', '03', '雨水井盖', 'Stormwater manhole cover', 'C01', 16),
('C0104', 'component', '01', '04', '雨水箅子', 'Storm-drain grate', 'C01', 16),
('C0105', 'component', '01', '05', '电力井盖', 'Electric-power manhole cover', 'C01', 16),
('C0106', 'component', '01', '06', '通信井盖', 'Telecom manhole cover', 'C01', 16),
('C0107', 'component', '01', '07', '燃气井盖', 'Gas manhole cover', 'C01', 16),
('C0108', 'component', '01', '08', '热力井盖', 'District-heating manhole cover', 'C01', 16),
('C0109', 'component', '01', '09', '消防栓', 'Fire hydrant', 'C01', 16),
('C0110', 'component', '01', '10', '路灯', 'Street light', 'C01', 24),
('C0111', 'component', '01', '11', '配电箱', 'Power distribution cabinet', 'C01', 24),
('C0112', 'component', '01', '12', '通信交接箱', 'Telecom cross-connect cabinet', 'C01', 40);

-- C02 道路交通 road traffic.
INSERT INTO categories (id, kind, major_code, minor_code, name_zh, name_en, parent_id, deadline_hours) VALUES
('C0201', 'component', '02', '01', '公交站亭', 'Bus shelter', 'C02', 24),
('C0202', 'component', '02', '02', '交通信号灯', 'Traffic signal', 'C02', 16),
('C0203', 'component', '02', '03', '交通标志牌', 'Traffic sign', 'C02', 24),
('C0204', 'component', '02', '04', '道路护栏', 'Road guardrail', 'C02', 24),
('C0205', 'component', '02', '05', '隔离墩', 'Traffic separation bollard', 'C02', 24),
('C0206', 'component', '02', '06', '人行天桥', 'Pedestrian overpass', 'C02', 40),
('C0207', 'component', '02', '07', '地下通道', 'Pedestrian underpass', 'C02', 40),
('C0208', 'component', '02', '08', '停车咪表', 'Parking meter', 'C02', 24),
('C0209', 'component', '02', '09', '交通监控设施', 'Traffic enforcement camera', 'C02', 24),
('C0210', 'component', '02', '10', '盲道', 'Tactile paving', 'C02', 40),
('C0211', 'component', '02', '11', '出租车候客站', 'Taxi stand', 'C02', 40);

-- C03 市容环境 city appearance and environment.
INSERT INTO categories (id, kind, major_code, minor_code, name_zh, name_en, parent_id, deadline_hours) VALUES
('C0301', 'component', '03', '01', '公共厕所', 'Public toilet', 'C03', 16),
('C0302', 'component', '03', '02', '垃圾箱', 'Litter bin', 'C03', 16),
('C0303', 'component', '03', '03', '垃圾中转站', 'Refuse transfer station', 'C03', 24),
('C0304', 'component', '03', '04', '报刊亭', 'Newsstand', 'C03', 24),
('C0305', 'component', '03', '05', '广告牌匾', 'Billboard or shop sign', 'C03', 40),
('C0306', 'component', '03', '06', '信息亭', 'Information kiosk', 'C03', 24),
('C0307', 'component', '03', '07', '户外电子显示屏', 'Outdoor electronic display', 'C03', 24),
('C0308', 'component', '03', '08', '景观灯', 'Decorative lighting', 'C03', 24),
('C0309', 'component', '03', '09', '化粪池', 'Septic tank', 'C03', 24),
('C0310', 'component', '03', '10', '公厕指示牌', 'Public-toilet direction sign', 'C03', 40);

-- C04 园林绿化 landscaping and greening.
INSERT INTO categories (id, kind, major_code, minor_code, name_zh, name_en, parent_id, deadline_hours) VALUES
('C0401', 'component', '04', '01', '古树名木', 'Heritage tree', 'C04', 24),
('C0402', 'component', '04', '02', '行道树', 'Street tree', 'C04', 24),
('C0403', 'component', '04', '03', '绿地', 'Green space', 'C04', 40),
('C0404', 'component', '04', '04', '花坛花箱', 'Flower bed or planter', 'C04', 24),
('C0405', 'component', '04', '05', '护树设施', 'Tree guard', 'C04', 24),
('C0406', 'component', '04', '06', '雕塑', 'Sculpture', 'C04', 40),
('C0407', 'component', '04', '07', '街头座椅', 'Street bench', 'C04', 24),
('C0408', 'component', '04', '08', '绿地护栏', 'Green-space railing', 'C04', 24),
('C0409', 'component', '04', '09', '喷泉', 'Fountain', 'C04', 40);

-- C05 房屋土地 housing and land.
INSERT INTO categories (id, kind, major_code, minor_code, name_zh, name_en, parent_id, deadline_hours) VALUES
('C0501', 'component', '05', '01', '建筑物外立面', 'Building facade', 'C05', 40),
('C0502', 'component', '05', '02', '在建工地', 'Construction site', 'C05', 40),
('C0503', 'component', '05', '03', '待建空地', 'Vacant lot awaiting development', 'C05', 40),
('C0504', 'component', '05', '04', '废弃房屋', 'Derelict building', 'C05', 40),
('C0505', 'component', '05', '05', '售货亭', 'Sales kiosk', 'C05', 24),
('C0506', 'component', '05', '06', '治安岗亭', 'Police sentry box', 'C05', 24),
('C0507', 'component', '05', '07', '围墙', 'Boundary wall', 'C05', 40);

-- C06 其他设施 other facilities.
INSERT INTO categories (id, kind, major_code, minor_code, name_zh, name_en, parent_id, deadline_hours) VALUES
('C0601', 'component', '06', '01', '人防工事', 'Civil air-defence works', 'C06', 40),
('C0602', 'component', '06', '02', '健身设施', 'Outdoor fitness equipment', 'C06', 24),
('C0603', 'component', '06', '03', '重大危险源', 'Major hazard installation', 'C06', 16),
('C0604', 'component', '06', '04', '河道护栏', 'Riverside railing', 'C06', 24),
('C0605', 'component', '06', '05', '公共自行车站点', 'Public bicycle docking station', 'C06', 24),
('C0606', 'component', '06', '06', '电动汽车充电桩', 'EV charging point', 'C06', 24),
('C0607', 'component', '06', '07', '城管视频监控', 'Urban-management CCTV camera', 'C06', 24);

-- E01 市容环境 city appearance and environment.
INSERT INTO categories (id, kind, major_code, minor_code, name_zh, name_en, parent_id, deadline_hours) VALUES
('E0101', 'event', '01', '01', '暴露垃圾', 'Exposed rubbish', 'E01', 8),
('E0102', 'event', '01', '02', '积存垃圾渣土', 'Accumulated rubbish and spoil', 'E01', 16),
('E0103', 'event', '01', '03', '道路不洁', 'Dirty road surface', 'E01', 8),
('E0104', 'event', '01', '04', '水域不洁', 'Littered water surface', 'E01', 16),
('E0105', 'event', '01', '05', '绿地脏乱', 'Littered green space', 'E01', 8),
('E0106', 'event', '01', '06', '垃圾满溢', 'Overflowing litter bin', 'E01', 4),
('E0107', 'event', '01', '07', '焚烧垃圾树叶', 'Open burning of rubbish or leaves', 'E01', 2),
('E0108', 'event', '01', '08', '餐饮油烟污染', 'Restaurant cooking-fume pollution', 'E01', 16),
('E0109', 'event', '01', '09', '动物尸体', 'Dead animal', 'E01', 4),
('E0110', 'event', '01', '10', '公厕不洁', 'Dirty public toilet', 'E01', 8);

-- E02 宣传广告 publicity and advertising.
INSERT INTO categories (id, kind, major_code, minor_code, name_zh, name_en, parent_id, deadline_hours) VALUES
('E0201', 'event', '02', '01', '非法小广告', 'Illegal flyposting', 'E02', 8),
('E0202', 'event', '02', '02', '违规张贴悬挂宣传品', 'Unauthorised posters and banners', 'E02', 8),
('E0203', 'event', '02', '03', '街头散发小广告', 'Handing out flyers in the street', 'E02', 4),
('E0204', 'event', '02', '04', '违规户外广告', 'Unauthorised outdoor advertising', 'E02', 40),
('E0205', 'event', '02', '05', '广告牌匾破损', 'Damaged billboard or shop sign', 'E02', 16),
('E0206', 'event', '02', '06', '涂写刻画', 'Graffiti', 'E02', 16),
('E0207', 'event', '02', '07', '亮化设施损坏', 'Faulty decorative lighting', 'E02', 24);

-- E03 施工管理 construction management.
INSERT INTO categories (id, kind, major_code, minor_code, name_zh, name_en, parent_id, deadline_hours) VALUES
('E0301', 'event', '03', '01', '施工扰民', 'Construction noise nuisance', 'E03', 4),
('E0302', 'event', '03', '02', '道路遗撒', 'Spillage from vehicles on the road', 'E03', 4),
('E0303', 'event', '03', '03', '施工占道', 'Construction occupying the road', 'E03', 8),
('E0304', 'event', '03', '04', '无证掘路', 'Unpermitted road excavation', 'E03', 4),
('E0305', 'event', '03', '05', '工地扬尘', 'Construction-site dust', 'E03', 4),
('E0306', 'event', '03', '06', '施工废弃料', 'Leftover construction waste', 'E03', 16),
('E0307', 'event', '03', '07', '违法建设', 'Illegal construction', 'E03', 40),
('E0308', 'event', '03', '08', '工地围挡不规范', 'Substandard site hoarding', 'E03', 16),
('E0309', 'event', '03', '09', '渣土车违规运输', 'Non-compliant spoil truck', 'E03', 4);

-- E04 突发事件 emergencies.
INSERT INTO categories (id, kind, major_code, minor_code, name_zh, name_en, parent_id, deadline_hours) VALUES
('E0401', 'event', '04', '01', '路面塌陷', 'Road collapse', 'E04', 2),
('E0402', 'event', '04', '02', '井盖缺失', 'Missing manhole cover', 'E04', 2),
('E0403', 'event', '04', '03', '自来水管破裂', 'Burst water main', 'E04', 2),
('E0404', 'event', '04', '04', '燃气管道泄漏', 'Gas pipe leak', 'E04', 1),
('E0405', 'event', '04', '05', '下水道堵塞或破损', 'Blocked or broken sewer', 'E04', 4),
('E0406', 'event', '04', '06', '道路积水', 'Waterlogged road', 'E04', 2),
('E0407', 'event', '04', '07', '架空线缆脱落', 'Fallen overhead cable', 'E04', 2),
('E0408', 'event', '04', '08', '树木倒伏', 'Fallen tree', 'E04', 2),
('E0409', 'event', '04', '09', '路面积雪结冰', 'Snow or ice on the road', 'E04', 4),
('E0410', 'event', '04', '10', '路面破损', 'Damaged road surface', 'E04', 8);

-- E05 街面秩序 street order.
INSERT INTO categories (id, kind, major_code, minor_code, name_zh, name_en, parent_id, deadline_hours) VALUES
('E0501', 'event', '05', '01', '占道经营', 'Street vending on the road', 'E05', 4),
('E0502', 'event', '05', '02', '店外经营', 'Trading outside the shop front', 'E05', 4),
('E0503', 'event', '05', '03', '流动摊贩', 'Itinerant hawker', 'E05', 2),
('E0504', 'event', '05', '04', '机动车乱停放', 'Illegally parked motor vehicle', 'E05', 4),
('E0505', 'event', '05', '05', '非机动车乱停放', 'Badly parked bicycle or e-bike', 'E05', 4),
('E0506', 'event', '05', '06', '乱堆物堆料', 'Materials piled on public space', 'E05', 8),
('E0507', 'event', '05', '07', '露天烧烤', 'Open-air barbecue', 'E05', 2),
('E0508', 'event', '05', '08', '乱拉乱挂', 'Lines or cables strung without permission', 'E05', 8),
('E0509', 'event', '05', '09', '占道洗车', 'Car washing on the road', 'E05', 4);

-- E06 其他事件 other events (local extension).
INSERT INTO categories (id, kind, major_code, minor_code, name_zh, name_en, parent_id, deadline_hours) VALUES
('E0601', 'event', '06', '01', '噪声扰民', 'Noise nuisance', 'E06', 8),
('E0602', 'event', '06', '02', '违规饲养畜禽', 'Livestock or poultry kept in town', 'E06', 16),
('E0603', 'event', '06', '03', '毁绿占绿', 'Damaging or encroaching on green space', 'E06', 16),
('E0604', 'event', '06', '04', '违规排污', 'Illegal sewage discharge', 'E06', 4),
('E0605', 'event', '06', '05', '废弃车辆', 'Abandoned vehicle', 'E06', 40),
('E0606', 'event', '06', '06', '其他', 'Other', 'E06', 16);
